package io.vsock4j.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.vsock4j.SocketProvider;
import io.vsock4j.Vsock;
import io.vsock4j.VsockAddress;
import io.vsock4j.netty.VsockChannel;
import io.vsock4j.netty.VsockIoHandler;
import io.vsock4j.netty.VsockServerChannel;
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

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * {@link NettyEcho} inside the project's QEMU guest (scripts/bench/bench-netty-guest.sh), where the
 * kernel's AF_VSOCK may be used: vsock4j's Netty transport on the guest kernel's vsock loopback (CID 1,
 * the "kernel" provider, readiness from epoll) against Netty's own native epoll TCP channel on
 * 127.0.0.1, in the same fork and boot. The kernel guard refuses the "kernel" provider anywhere else,
 * so this never runs on the host.
 */
@State(Scope.Benchmark)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class NettyEchoInGuest {
    @Param({"kernel", "epoll"})
    public String transport;

    private SocketProvider provider;
    private EventLoopGroup serverLoop;
    private EventLoopGroup clientLoop;
    private Channel server;
    private Channel client;
    private ByteBuf chunk;
    private ByteBuf ping;
    private final NettyEcho.Counter counter = new NettyEcho.Counter();

    @Setup
    public void setUp() throws Exception {
        SocketAddress listen;
        SocketAddress connect;
        if (transport.equals("kernel")) {
            provider = Vsock.provider("kernel");
            serverLoop = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory(provider));
            clientLoop = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory(provider));
            listen = VsockAddress.of(VsockAddress.CID_ANY, 5000);
            connect = VsockAddress.local(5000);
        } else {
            serverLoop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            clientLoop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            listen = new InetSocketAddress("127.0.0.1", 0);
            connect = null;
        }
        server = new ServerBootstrap().group(serverLoop)
                .channel(transport.equals("kernel") ? VsockServerChannel.class : EpollServerSocketChannel.class)
                .childHandler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ctx.write(msg);
                    }

                    @Override
                    public void channelReadComplete(ChannelHandlerContext ctx) {
                        ctx.flush();
                    }
                })
                .bind(listen).sync().channel();
        if (connect == null) {
            connect = server.localAddress();
        }
        client = new Bootstrap().group(clientLoop)
                .channel(transport.equals("kernel") ? VsockChannel.class : EpollSocketChannel.class)
                .handler(counter).connect(connect).sync().channel();
        chunk = client.alloc().buffer(NettyEcho.CHUNK_BYTES).writeZero(NettyEcho.CHUNK_BYTES); // the kind each transport prefers
        ping = client.alloc().buffer(NettyEcho.PING_BYTES).writeZero(NettyEcho.PING_BYTES);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public long stream() {
        return NettyEcho.stream(client, chunk, counter);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long roundTrip() {
        return NettyEcho.roundTrip(client, ping, counter);
    }

    @TearDown
    public void tearDown() throws Exception {
        client.close().sync();
        server.close().sync();
        clientLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        serverLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        chunk.release();
        ping.release();
    }
}
