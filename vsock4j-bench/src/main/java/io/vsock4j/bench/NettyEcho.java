package io.vsock4j.bench;

import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;
import io.vsock4j.netty.VsockChannel;
import io.vsock4j.netty.VsockIoHandler;
import io.vsock4j.netty.VsockServerChannel;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.net.InetSocketAddress;

/**
 * A Netty echo ({@link NettyEchoPair}) over vsock4j's Netty transport on the Java loopback (CID 1) and
 * over Netty's own NIO TCP on 127.0.0.1, in the same fork (issue #15's performance item;
 * scripts/bench/bench-netty-grpc.sh). {@code stream}: 16 MiB written in 64 KiB buffers, the operation
 * ending when all of it came back, so the rate counts bytes moved both ways. {@code roundTrip}: 64 bytes
 * out and back, sampled for the median. {@code -p buffers=direct} has the client write direct buffers on
 * either transport.
 */
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class NettyEcho extends NettyEchoMeasures {
    @Param({"vsock", "tcp"})
    public String transport;

    /** What the client writes: "preferred", the kind its channel's allocator prefers, or "direct". */
    @Param({"preferred"})
    public String buffers;

    private Machine machine;

    @Setup
    public void setUp() throws Exception {
        boolean direct = switch (buffers) {
            case "preferred" -> false;
            case "direct" -> true;
            default -> throw new IllegalArgumentException("-p buffers=" + buffers + ": preferred or direct");
        };
        if (transport.equals("vsock")) {
            machine = Machines.loopback();
            pair = new NettyEchoPair(VsockIoHandler.newFactory(machine), VsockServerChannel.class, VsockChannel.class,
                    VsockAddress.of(VsockAddress.CID_ANY, 5000), VsockAddress.local(5000), direct);
        } else {
            pair = new NettyEchoPair(NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class,
                    new InetSocketAddress("127.0.0.1", 0), null, direct);
        }
    }

    @TearDown
    public void tearDown() throws Exception {
        pair.close();
        if (machine != null) {
            machine.close();
        }
    }
}
