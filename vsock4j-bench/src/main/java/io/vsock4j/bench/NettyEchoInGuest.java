package io.vsock4j.bench;

import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.vsock4j.Vsock;
import io.vsock4j.VsockAddress;
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
 * {@link NettyEcho}'s echo inside the project's QEMU guest (scripts/bench/bench-netty-guest.sh), where
 * the kernel's AF_VSOCK may be used: vsock4j's Netty transport on the guest kernel's vsock loopback
 * (CID 1, the "kernel" provider, readiness from epoll) against Netty's own native epoll TCP channel on
 * 127.0.0.1, in the same fork and boot. The kernel guard refuses the "kernel" provider anywhere else,
 * so this never runs on the host.
 */
@State(Scope.Benchmark)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class NettyEchoInGuest extends NettyEchoMeasures {
    @Param({"kernel", "epoll"})
    public String transport;


    @Setup
    public void setUp() throws Exception {
        if (transport.equals("kernel")) {
            pair = new NettyEchoPair(VsockIoHandler.newFactory(Vsock.provider("kernel")), VsockServerChannel.class,
                    VsockChannel.class, VsockAddress.of(VsockAddress.CID_ANY, 5000), VsockAddress.local(5000), false);
        } else {
            pair = new NettyEchoPair(EpollIoHandler.newFactory(), EpollServerSocketChannel.class, EpollSocketChannel.class,
                    new InetSocketAddress("127.0.0.1", 0), null, false);
        }
    }

    @TearDown
    public void tearDown() throws Exception {
        pair.close();
    }
}
