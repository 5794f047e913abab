package io.vsock4j.bench;

import io.vsock4j.machines.Machines;
import io.vsock4j.cli.perf.StreamPair;
import io.vsock4j.core.Machine;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One-way stream throughput with 64 KiB writes, in bytes per second (ops are bytes): the Java vsock
 * loopback against Java TCP loopback, a Unix domain socket, and the copy limit, an in-JVM queue
 * handing over 64 KiB copies (the sender copies into a pooled buffer, the receiver copies out, as a
 * socket does). A platform thread drains the receiving side.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class StreamThroughput {
    static final int CHUNK_BYTES = 64 * 1024;

    @Param({"vsock", "tcp", "unix", "queue"})
    public String transport;

    private final byte[] chunk = new byte[CHUNK_BYTES];
    private Machine machine;
    private StreamPair pair;
    private Thread drain;
    private BlockingQueue<byte[]> handOver;
    private BlockingQueue<byte[]> pool;

    @Setup
    public void setUp() throws IOException {
        if (transport.equals("queue")) {
            handOver = new ArrayBlockingQueue<>(4);
            pool = new ArrayBlockingQueue<>(8);
            for (int i = 0; i < 8; i++) {
                pool.add(new byte[CHUNK_BYTES]);
            }
            drain = Thread.ofPlatform().daemon().name("queue-drain").start(this::drainQueue);
            return;
        }
        machine = transport.equals(StreamPair.VSOCK) ? Machines.loopback() : null;
        pair = StreamPair.open(transport, machine, 5000, StreamPair.DEFAULT_VSK_BYTES);
        drain = Thread.ofPlatform().daemon().name(transport + "-drain").start(this::drainStream);
    }

    private void drainStream() {
        byte[] buf = new byte[CHUNK_BYTES];
        try {
            while (pair.serverIn.read(buf) >= 0) {
                // discard
            }
        } catch (IOException closed) {
            // tear-down
        }
    }

    private void drainQueue() {
        byte[] into = new byte[CHUNK_BYTES];
        try {
            while (true) {
                byte[] b = handOver.take();
                System.arraycopy(b, 0, into, 0, CHUNK_BYTES);
                pool.put(b);
            }
        } catch (InterruptedException stop) {
            Thread.currentThread().interrupt();
        }
    }

    @Benchmark
    @OperationsPerInvocation(CHUNK_BYTES)
    public void write64KiB() throws Exception {
        if (handOver != null) {
            byte[] b = pool.take();
            System.arraycopy(chunk, 0, b, 0, CHUNK_BYTES);
            handOver.put(b);
        } else {
            pair.clientOut.write(chunk);
        }
    }

    @TearDown
    public void tearDown() throws Exception {
        if (pair != null) {
            pair.close();
        }
        if (machine != null) {
            machine.close();
        }
        drain.interrupt();
        drain.join(5_000);
    }
}
