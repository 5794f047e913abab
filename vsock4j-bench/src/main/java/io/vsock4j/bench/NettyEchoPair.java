package io.vsock4j.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;

import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * The Netty echo that {@link NettyEcho} and {@link NettyEchoInGuest} time, on whichever transport they
 * name: a server that writes back what it reads, a client whose handler counts what came back, each on
 * an event loop of its own (as two processes would have), and the client's 64 KiB and 64-byte buffers,
 * taken from its channel's allocator (the kind each transport prefers: heap for vsock, direct for
 * NIO and epoll) or, when asked, direct whatever the transport prefers. The benchmark thread runs
 * {@link #stream} and {@link #roundTrip}; the client's loop counts and unparks it.
 */
final class NettyEchoPair {
    static final int CHUNK_BYTES = 64 * 1024;
    static final int STREAM_BYTES = 16 << 20;
    static final int PING_BYTES = 64;

    private final EventLoopGroup serverLoop;
    private final EventLoopGroup clientLoop;
    private final Channel server;
    private final Channel client;
    private final ByteBuf chunk;
    private final ByteBuf ping;
    private final Counter counter = new Counter();

    /** Counts echoed bytes on the client's loop and unparks the benchmark thread when a target is reached. */
    private static final class Counter extends ChannelInboundHandlerAdapter {
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

        /** Waits until {@code total} bytes came back in all; a permit left by an early unpark is fine. */
        long awaitTotal(long total) {
            while (received < total) {
                LockSupport.park(this);
            }
            return total;
        }
    }

    /**
     * Binds the echo server on {@code listen} and connects the client to {@code connect}, or to where the
     * server is bound when that is null (TCP's ephemeral port). With {@code direct}, the client writes
     * direct buffers; otherwise the kind its channel's allocator prefers.
     */
    NettyEchoPair(IoHandlerFactory loops, Class<? extends ServerChannel> serverType, Class<? extends Channel> clientType,
                  SocketAddress listen, SocketAddress connect, boolean direct) throws InterruptedException {
        serverLoop = new MultiThreadIoEventLoopGroup(1, loops);
        clientLoop = new MultiThreadIoEventLoopGroup(1, loops);
        server = new ServerBootstrap().group(serverLoop).channel(serverType)
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
        client = new Bootstrap().group(clientLoop).channel(clientType).handler(counter)
                .connect(connect != null ? connect : server.localAddress()).sync().channel();
        IntFunction<ByteBuf> buffer = direct ? client.alloc()::directBuffer : client.alloc()::buffer;
        chunk = buffer.apply(CHUNK_BYTES).writeZero(CHUNK_BYTES);
        ping = buffer.apply(PING_BYTES).writeZero(PING_BYTES);
    }

    /** Writes {@link #STREAM_BYTES} in 64 KiB buffers and waits until all of it came back. */
    long stream() {
        counter.waiter = Thread.currentThread();
        long target = counter.received + STREAM_BYTES;
        counter.target = target;
        for (int sent = 0; sent < STREAM_BYTES; sent += CHUNK_BYTES) {
            client.write(chunk.retainedDuplicate(), client.voidPromise());
        }
        client.flush();
        return counter.awaitTotal(target);
    }

    /** Writes 64 bytes and waits until they came back. */
    long roundTrip() {
        counter.waiter = Thread.currentThread();
        long target = counter.received + PING_BYTES;
        counter.target = target;
        client.writeAndFlush(ping.retainedDuplicate(), client.voidPromise());
        return counter.awaitTotal(target);
    }

    void close() throws InterruptedException {
        client.close().sync();
        server.close().sync();
        clientLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        serverLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        chunk.release();
        ping.release();
    }
}
