package io.vsock4j.bench;

import io.vsock4j.machines.Machines;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSeqpacketServerSocket;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.core.Machine;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** SEQPACKET messages of 1 KiB per second over CID 1, one way, a platform thread receiving. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class SeqpacketMessages {
    private final byte[] message = new byte[1024];
    private Machine machine;
    private VsockSeqpacketServerSocket server;
    private VsockSeqpacketSocket client;
    private VsockSeqpacketSocket accepted;
    private Thread receiver;

    @Setup
    public void setUp() throws IOException {
        machine = Machines.loopback();
        server = VsockSeqpacketServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, 5000));
        client = VsockSeqpacketSocket.connect(machine, VsockAddress.local(5000));
        accepted = server.accept();
        receiver = Thread.ofPlatform().daemon().start(() -> {
            byte[] buf = new byte[2048];
            try {
                while (accepted.receive(buf) >= 0) {
                    // discard
                }
            } catch (IOException closed) {
                // tear-down
            }
        });
    }

    @Benchmark
    public int send1KiB() throws IOException {
        return client.send(message);
    }

    @TearDown
    public void tearDown() throws Exception {
        client.close();
        accepted.close();
        server.close();
        machine.close();
        receiver.join(5_000);
    }
}
