package io.vsock4j.bench;

import io.vsock4j.machines.Machines;
import io.vsock4j.cli.perf.StreamPair;
import io.vsock4j.core.Machine;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** One-byte round trip (write, the peer echoes, read), sampled so the median can be quoted. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class RoundTrip {
    @Param({"vsock", "tcp", "unix"})
    public String transport;

    private Machine machine;
    private StreamPair pair;
    private Thread echo;

    @Setup
    public void setUp() throws IOException {
        machine = transport.equals(StreamPair.VSOCK) ? Machines.loopback() : null;
        pair = StreamPair.open(transport, machine, 5000, StreamPair.DEFAULT_VSK_BYTES);
        echo = Thread.ofPlatform().daemon().name(transport + "-echo").start(() -> {
            try {
                int b;
                while ((b = pair.serverIn.read()) >= 0) {
                    pair.serverOut.write(b);
                }
            } catch (IOException closed) {
                // tear-down
            }
        });
    }

    @Benchmark
    public int pingPong() throws IOException {
        pair.clientOut.write(1);
        return pair.clientIn.read();
    }

    @TearDown
    public void tearDown() throws Exception {
        pair.close();
        if (machine != null) {
            machine.close();
        }
        echo.join(5_000);
    }
}
