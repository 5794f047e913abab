package io.vsock4j.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.vsock4j.SocketProvider;
import io.vsock4j.Vsock;
import io.vsock4j.VsockAddress;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * The Netty transport on the kernel's AF_VSOCK, run by {@link NettyKernelInGuestTest} inside the QEMU
 * guest (vsock_loopback, CID 1): an echo of random bytes on 20 channels of one event loop, and a
 * half-close. Prints one {@code PASS name} or {@code FAIL name: why} line per case and exits 0 only if
 * all passed. Refuses to run outside the guest (the kernel provider's guard refuses too).
 */
public final class KernelEchoGuestMain {
    private KernelEchoGuestMain() {
    }

    public static void main(String[] args) throws Exception {
        if (!Files.readString(Path.of("/proc/cmdline")).contains("vsock4j.guest=1")) {
            System.out.println("FAIL guard: not inside the vsock4j QEMU guest; refusing to open kernel vsock sockets");
            System.exit(2);
        }
        SocketProvider kernel = Vsock.provider("kernel");
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory(kernel));
        boolean ok = true;
        try {
            ok &= run("echo on 20 channels", () -> echo(group));
            ok &= run("half-close", () -> halfClose(group));
        } finally {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
        System.exit(ok ? 0 : 1);
    }

    private interface Case {
        void run() throws Exception;
    }

    private static boolean run(String name, Case c) {
        try {
            c.run();
            System.out.println("PASS " + name);
            return true;
        } catch (Throwable t) {
            System.out.println("FAIL " + name + ": " + t);
            t.printStackTrace(System.out);
            return false;
        }
    }

    @ChannelHandler.Sharable
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> ctx.close());
            }
        }
    }

    /** Sums what arrives; completes with the CRC once {@code expected} bytes came. */
    private static final class Sink extends ChannelInboundHandlerAdapter {
        final CRC32 crc = new CRC32();
        final AtomicLong bytes = new AtomicLong();
        final long expected;
        final CompletableFuture<Long> done = new CompletableFuture<>();
        final CompletableFuture<Void> closed = new CompletableFuture<>();

        Sink(long expected) {
            this.expected = expected;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            b.release();
            crc.update(a); // the loop's thread only
            if (bytes.addAndGet(a.length) == expected) {
                done.complete(crc.getValue());
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed.complete(null);
        }
    }

    private static void echo(EventLoopGroup group) throws Exception {
        SplittableRandom random = new SplittableRandom(42);
        Channel server = new ServerBootstrap().group(group).channel(VsockServerChannel.class).childHandler(new Echo())
                .bind(VsockAddress.of(VsockAddress.CID_ANY, 7700)).sync().channel();
        try {
            List<Channel> clients = new ArrayList<>();
            List<Sink> sinks = new ArrayList<>();
            List<Long> expected = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                byte[] data = new byte[1 + random.nextInt(512 * 1024)];
                random.nextBytes(data);
                CRC32 crc = new CRC32();
                crc.update(data);
                expected.add(crc.getValue());
                Sink sink = new Sink(data.length);
                sinks.add(sink);
                Channel c = new Bootstrap().group(group).channel(VsockChannel.class).handler(sink)
                        .connect(VsockAddress.local(7700)).sync().channel();
                clients.add(c);
                c.writeAndFlush(c.alloc().directBuffer(data.length).writeBytes(data));
            }
            for (int i = 0; i < clients.size(); i++) {
                long got = sinks.get(i).done.get(60, TimeUnit.SECONDS);
                if (got != expected.get(i)) {
                    throw new AssertionError("channel " + i + ": CRC " + got + ", sent " + expected.get(i));
                }
                clients.get(i).close().sync();
            }
        } finally {
            server.close().sync();
        }
    }

    private static void halfClose(EventLoopGroup group) throws Exception {
        Channel server = new ServerBootstrap().group(group).channel(VsockServerChannel.class)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true).childHandler(new Echo())
                .bind(VsockAddress.of(VsockAddress.CID_ANY, 7701)).sync().channel();
        try {
            byte[] data = "after shutdownOutput the echo still comes back".getBytes();
            Sink sink = new Sink(data.length);
            VsockChannel c = (VsockChannel) new Bootstrap().group(group).channel(VsockChannel.class).handler(sink)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .connect(VsockAddress.local(7701)).sync().channel();
            c.writeAndFlush(Unpooled.wrappedBuffer(data)).sync();
            c.shutdownOutput().sync();
            sink.done.get(60, TimeUnit.SECONDS);
            c.close().sync();
        } finally {
            server.close().sync();
        }
    }
}
