package io.vsock4j.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;
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
import java.util.concurrent.locks.LockSupport;

/**
 * A Netty echo server and client, over vsock4j's Netty transport on the Java loopback (CID 1) and over
 * Netty's own NIO TCP on 127.0.0.1, in the same fork (issue #15's performance item). Each side has its
 * own event loop, as two processes would. {@code stream}: the client writes 16 MiB in 64 KiB buffers
 * and the operation ends when all of it came back, so the rate counts bytes moved both ways.
 * {@code roundTrip}: 64 bytes out and back, sampled for the median.
 */
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class NettyEcho {
    static final int CHUNK_BYTES = 64 * 1024;
    static final int STREAM_BYTES = 16 << 20;
    static final int PING_BYTES = 64;

    @Param({"vsock", "tcp"})
    public String transport;

    private Machine machine;
    private EventLoopGroup serverLoop;
    private EventLoopGroup clientLoop;
    private Channel server;
    private Channel client;
    private ByteBuf chunk;
    private ByteBuf ping;
    private final Counter counter = new Counter();

    /** Counts echoed bytes on the client's loop and unparks the benchmark thread when a target is reached. */
    static final class Counter extends ChannelInboundHandlerAdapter {
        volatile long received;
        volatile long target;
        volatile Thread waiter;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            long now = received + b.readableBytes();
            b.release();
            received = now; // the loop's thread is the only writer
            if (now >= target) {
                LockSupport.unpark(waiter);
            }
        }

        void awaitTotal(long total) {
            while (received < total) {
                LockSupport.park(this);
            }
        }
    }

    @Setup
    public void setUp() throws Exception {
        SocketAddress listen;
        SocketAddress connect;
        if (transport.equals("vsock")) {
            machine = Machines.loopback();
            serverLoop = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory(machine));
            clientLoop = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory(machine));
            listen = VsockAddress.of(VsockAddress.CID_ANY, 5000);
            connect = VsockAddress.local(5000);
        } else {
            serverLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            clientLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            listen = new InetSocketAddress("127.0.0.1", 0);
            connect = null;
        }
        server = new ServerBootstrap().group(serverLoop)
                .channel(transport.equals("vsock") ? VsockServerChannel.class : NioServerSocketChannel.class)
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
                .channel(transport.equals("vsock") ? VsockChannel.class : NioSocketChannel.class)
                .handler(counter).connect(connect).sync().channel();
        chunk = client.alloc().buffer(CHUNK_BYTES).writeZero(CHUNK_BYTES); // the kind each transport prefers
        ping = client.alloc().buffer(PING_BYTES).writeZero(PING_BYTES);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public long stream() {
        return stream(client, chunk, counter);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long roundTrip() {
        return roundTrip(client, ping, counter);
    }

    /** Writes {@link #STREAM_BYTES} in {@code chunk}s and waits until all of it came back. */
    static long stream(Channel client, ByteBuf chunk, Counter counter) {
        counter.waiter = Thread.currentThread();
        long target = counter.received + STREAM_BYTES;
        counter.target = target;
        for (int sent = 0; sent < STREAM_BYTES; sent += CHUNK_BYTES) {
            client.write(chunk.retainedDuplicate(), client.voidPromise());
        }
        client.flush();
        counter.awaitTotal(target);
        return target;
    }

    /** Writes {@code ping} and waits until it came back. */
    static long roundTrip(Channel client, ByteBuf ping, Counter counter) {
        counter.waiter = Thread.currentThread();
        long target = counter.received + ping.readableBytes();
        counter.target = target;
        client.writeAndFlush(ping.retainedDuplicate(), client.voidPromise());
        counter.awaitTotal(target);
        return target;
    }

    @TearDown
    public void tearDown() throws Exception {
        client.close().sync();
        server.close().sync();
        clientLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        serverLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        chunk.release();
        ping.release();
        if (machine != null) {
            machine.close();
        }
    }
}
