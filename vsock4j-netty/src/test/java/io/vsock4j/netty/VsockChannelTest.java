package io.vsock4j.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.VSockAddress;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;
import io.vsock4j.wire.VirtioVsock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Netty transport end to end on the Java loopback (CID 1): echo, many channels on one loop,
 * backpressure from the credit window, half-close both ways, close with writes pending, bad addresses,
 * and an idle loop that sleeps. Every test runs under Netty's PARANOID leak detector and fails if it
 * reported a leak. Each test has a fresh machine and event-loop group (one thread, so every channel of
 * the test shares one loop); randomness is seeded and the seed printed.
 */
class VsockChannelTest {
    static {
        LeakRecorder.install();
    }

    private static final String SEED_PROPERTY = "vsock4j.test.seed";
    private static final int WINDOW_BYTES = 256 * 1024;

    private SplittableRandom random;
    private Machine machine;
    private EventLoopGroup group;
    private final List<Channel> channels = new ArrayList<>();

    @BeforeEach
    void setUp() {
        long seed = Long.getLong(SEED_PROPERTY, System.nanoTime());
        System.out.println("VsockChannelTest seed " + seed + " (-D" + SEED_PROPERTY + "=N to replay)");
        random = new SplittableRandom(seed);
        machine = Machines.loopback();
        group = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory(machine));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Channel c : channels) {
            c.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        machine.close();
        assertThat(LeakRecorder.collectLeaks()).as("buffers Netty's leak detector found unreleased").isEmpty();
    }

    private <C extends Channel> C track(C channel) {
        channels.add(channel);
        return channel;
    }

    private byte[] randomBytes(int max) {
        byte[] b = new byte[1 + random.nextInt(max)];
        random.nextBytes(b);
        return b;
    }

    private static long crc(byte[] b) {
        CRC32 crc = new CRC32();
        crc.update(b);
        return crc.getValue();
    }

    /** Echoes every byte back; with {@code halfClose}, answers the peer's EOF by closing after the echo. */
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
            ReferenceCountUtil.release(evt);
        }
    }

    /** Collects what arrives; completes {@link #eof} when the channel goes inactive or its input ends. */
    private static final class Collector extends ChannelInboundHandlerAdapter {
        final CRC32 crc = new CRC32();
        final AtomicLong bytes = new AtomicLong();
        final CompletableFuture<Void> eof = new CompletableFuture<>();
        volatile long expected = Long.MAX_VALUE;
        final CompletableFuture<Long> complete = new CompletableFuture<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                byte[] b = new byte[buf.readableBytes()];
                buf.readBytes(b);
                synchronized (crc) {
                    crc.update(b);
                }
                if (bytes.addAndGet(b.length) >= expected) {
                    complete.complete(crcValue());
                }
            } finally {
                buf.release();
            }
        }

        long crcValue() {
            synchronized (crc) {
                return crc.getValue();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                eof.complete(null);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            eof.complete(null);
            ctx.fireChannelInactive();
        }
    }

    private Channel echoServer(int port, boolean halfClose) {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(VsockServerChannel.class)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, halfClose)
                .childHandler(new ChannelInitializer<VsockChannel>() {
                    @Override
                    protected void initChannel(VsockChannel ch) {
                        ch.pipeline().addLast(new Echo());
                    }
                });
        return track(b.bind(VsockAddress.of(VsockAddress.CID_ANY, port)).syncUninterruptibly().channel());
    }

    private Bootstrap client(ChannelInboundHandlerAdapter handler) {
        return new Bootstrap().group(group).channel(VsockChannel.class).handler(handler);
    }

    // ------------------------------------------------------------------------------------------------

    @Test
    void echoesOverCid1OnTheJavaLoopbackWithTheDefaultProvider() throws Exception {
        // The default factory: sockets on Vsock.defaultProvider(), the process's own machine.
        EventLoopGroup defaults = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory());
        try {
            int port = 20_000 + random.nextInt(20_000);
            Channel server = new ServerBootstrap().group(defaults).channel(VsockServerChannel.class)
                    .childHandler(new Echo()).bind(VsockAddress.of(VsockAddress.CID_ANY, port)).sync().channel();
            Collector got = new Collector();
            byte[] data = randomBytes(1 << 20);
            got.expected = data.length;
            Channel client = new Bootstrap().group(defaults).channel(VsockChannel.class).handler(got)
                    .connect(VsockAddress.local(port)).sync().channel();
            assertThat(client.remoteAddress()).isEqualTo(VsockAddress.of(VsockAddress.CID_LOCAL, port));
            assertThat(((VsockAddress) client.localAddress()).cid()).isEqualTo(VsockAddress.CID_LOCAL);
            client.writeAndFlush(Unpooled.wrappedBuffer(data));
            assertThat(got.complete.get(30, TimeUnit.SECONDS)).isEqualTo(crc(data));
            assertThat(got.bytes.get()).isEqualTo(data.length);
            client.close().sync();
            server.close().sync();
        } finally {
            defaults.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void echoesToNettysOwnVSockAddressAndFromDirectBuffers() throws Exception {
        echoServer(5001, false);
        Collector got = new Collector();
        byte[] data = randomBytes(200_000);
        got.expected = data.length;
        Channel client = track(client(got).connect(new VSockAddress(VSockAddress.VMADDR_CID_LOCAL, 5001)).sync().channel());
        ByteBuf direct = client.alloc().directBuffer(data.length).writeBytes(data);
        client.writeAndFlush(direct).sync();
        assertThat(got.complete.get(30, TimeUnit.SECONDS)).isEqualTo(crc(data));
    }

    @Test
    void twoHundredChannelsOnOneEventLoopEachEchoTheirBytesIntact() throws Exception {
        echoServer(5002, false);
        int count = 200;
        List<Collector> collectors = new ArrayList<>();
        List<byte[]> sent = new ArrayList<>();
        List<ChannelFuture> connects = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Collector c = new Collector();
            byte[] data = randomBytes(64 * 1024);
            c.expected = data.length;
            collectors.add(c);
            sent.add(data);
            connects.add(client(c).connect(VsockAddress.local(5002)));
        }
        for (int i = 0; i < count; i++) {
            Channel ch = track(connects.get(i).sync().channel());
            // Written in pieces, so the echo interleaves with the other channels' on the one loop.
            byte[] data = sent.get(i);
            int half = data.length / 2;
            ch.write(Unpooled.wrappedBuffer(data, 0, half));
            ch.writeAndFlush(Unpooled.wrappedBuffer(data, half, data.length - half));
        }
        for (int i = 0; i < count; i++) {
            assertThat(collectors.get(i).complete.get(30, TimeUnit.SECONDS)).as("channel " + i).isEqualTo(crc(sent.get(i)));
            assertThat(collectors.get(i).bytes.get()).as("channel " + i).isEqualTo(sent.get(i).length);
        }
        assertThat(machine.connectionCount()).isEqualTo(2 * count);
    }

    /** A server on {@code port} whose child does not read until told (autoRead off); {@code received} collects what it then reads. */
    private CompletableFuture<Channel> nonReadingServer(int port, Collector received) throws InterruptedException {
        CompletableFuture<Channel> child = new CompletableFuture<>();
        track(new ServerBootstrap().group(group).channel(VsockServerChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<VsockChannel>() {
                    @Override
                    protected void initChannel(VsockChannel ch) {
                        ch.pipeline().addLast(received);
                        child.complete(ch);
                    }
                }).bind(VsockAddress.of(VsockAddress.CID_ANY, port)).sync().channel());
        return child;
    }

    @Test
    void aReaderThatStopsReadingTurnsTheWriterUnwritableAndItsCreditUpdateTurnsItWritableAgain() throws Exception {
        // The server's child does not read (autoRead off): the window fills, then Netty's outbound buffer.
        Collector received = new Collector();
        CompletableFuture<Channel> child = nonReadingServer(5003, received);
        CountDownLatch writableAgain = new CountDownLatch(1);
        Channel client = track(client(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                if (ctx.channel().isWritable()) {
                    writableAgain.countDown();
                }
            }
        }).connect(VsockAddress.local(5003)).sync().channel());
        Channel reader = child.get(10, TimeUnit.SECONDS);

        // Write on the loop until the channel says stop: credit, then the high water mark.
        CRC32 sentCrc = new CRC32();
        long sent = client.eventLoop().submit(() -> {
            long n = 0;
            while (client.isWritable()) {
                byte[] chunk = randomBytes(16 * 1024);
                sentCrc.update(chunk);
                n += chunk.length;
                client.writeAndFlush(Unpooled.wrappedBuffer(chunk));
            }
            return n;
        }).get(30, TimeUnit.SECONDS);
        assertThat(client.isWritable()).isFalse();
        assertThat(sent).as("bytes written before the channel turned unwritable: the window and then some")
                .isGreaterThan(WINDOW_BYTES);
        assertThat(client.bytesBeforeWritable()).isPositive();
        assertThat(writableAgain.getCount()).isEqualTo(1);

        // The reader reads: CREDIT_UPDATEs come back, the writer flushes, and turns writable.
        received.expected = sent;
        reader.config().setAutoRead(true);
        assertThat(writableAgain.await(30, TimeUnit.SECONDS)).as("writable again after the reader read").isTrue();
        assertThat(received.complete.get(30, TimeUnit.SECONDS)).isEqualTo(sentCrc.getValue());
        assertThat(received.bytes.get()).isEqualTo(sent);
    }

    @Test
    void directAndCompositeBuffersCutShortByTheWindowArriveWholeAndInOrder() throws Exception {
        // Direct buffers (sent from their native memory), composite ones (copied to heap first) and heap
        // ones, to a reader that does not read yet: sends the window cuts short must resume where they
        // stopped. 100 KiB each, so the 256 KiB window cuts the third, a direct one, at 56 KiB.
        Collector received = new Collector();
        CompletableFuture<Channel> child = nonReadingServer(5010, received);
        VsockChannel client = track((VsockChannel) client(new ChannelInboundHandlerAdapter())
                .connect(VsockAddress.local(5010)).sync().channel());
        Channel reader = child.get(10, TimeUnit.SECONDS);

        CRC32 sentCrc = new CRC32();
        List<ByteBuf> written = new ArrayList<>();
        long sent = client.eventLoop().submit(() -> {
            long n = 0;
            for (int i = 0; client.isWritable(); i++) {
                byte[] chunk = new byte[100 * 1024];
                random.nextBytes(chunk);
                sentCrc.update(chunk);
                n += chunk.length;
                ByteBuf buf = switch (i % 5) {
                    case 0, 1, 2 -> client.alloc().directBuffer(chunk.length).writeBytes(chunk);
                    case 3 -> client.alloc().compositeDirectBuffer()
                            .addComponent(true, client.alloc().directBuffer().writeBytes(chunk, 0, chunk.length / 2))
                            .addComponent(true, Unpooled.wrappedBuffer(chunk, chunk.length / 2, chunk.length - chunk.length / 2));
                    default -> Unpooled.wrappedBuffer(chunk);
                };
                written.add(buf);
                client.writeAndFlush(buf);
            }
            return n;
        }).get(30, TimeUnit.SECONDS);
        assertThat(sent).as("bytes written before the channel turned unwritable").isGreaterThan(WINDOW_BYTES);

        received.expected = sent;
        reader.config().setAutoRead(true);
        assertThat(received.complete.get(30, TimeUnit.SECONDS)).isEqualTo(sentCrc.getValue());
        assertThat(received.bytes.get()).isEqualTo(sent);
        assertThat(client.eventLoop().submit(() -> written.stream().allMatch(b -> b.refCnt() == 0)).get(10, TimeUnit.SECONDS))
                .as("every written buffer released once sent").isTrue();
    }

    @Test
    void aDirectBufferGoesToTheSocketAsItIsAndOnlyACompositeIsCopied() throws Exception {
        echoServer(5011, false);
        VsockChannel client = track((VsockChannel) client(new ChannelInboundHandlerAdapter())
                .connect(VsockAddress.local(5011)).sync().channel());
        ByteBuf direct = client.alloc().directBuffer(16).writeLong(1);
        ByteBuf composite = client.alloc().compositeDirectBuffer()
                .addComponent(true, client.alloc().directBuffer(8).writeLong(2))
                .addComponent(true, client.alloc().directBuffer(8).writeLong(3));
        try {
            assertThat(client.filterOutboundMessage(direct)).isSameAs(direct);
            Object copied = client.filterOutboundMessage(composite); // releases the composite
            assertThat(copied).isInstanceOf(ByteBuf.class).isNotSameAs(composite);
            assertThat(((ByteBuf) copied).hasArray()).isTrue();
            assertThat(((ByteBuf) copied).getLong(8)).isEqualTo(3);
            ReferenceCountUtil.release(copied);
        } finally {
            direct.release();
        }
    }

    @Test
    void shutdownOutputIsTheReadersEofAndWithHalfClosureTheReaderStillAnswers() throws Exception {
        echoServer(5004, true); // echoes, and closes after the echo once its input is shut
        Collector got = new Collector();
        byte[] data = randomBytes(100_000);
        got.expected = data.length;
        VsockChannel client = (VsockChannel) track(client(got).option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .connect(VsockAddress.local(5004)).sync().channel());
        client.writeAndFlush(Unpooled.wrappedBuffer(data)).sync();
        client.shutdownOutput().sync();
        assertThat(client.isOutputShutdown()).isTrue();
        // The server saw EOF (ChannelInputShutdownEvent), echoed everything, then closed: our EOF.
        assertThat(got.complete.get(30, TimeUnit.SECONDS)).isEqualTo(crc(data));
        got.eof.get(30, TimeUnit.SECONDS);
        assertThat(got.bytes.get()).isEqualTo(data.length);
    }

    @Test
    void withoutHalfClosureThePeersShutdownClosesTheChannel() throws Exception {
        CompletableFuture<Channel> child = new CompletableFuture<>();
        track(new ServerBootstrap().group(group).channel(VsockServerChannel.class)
                .childHandler(new ChannelInitializer<VsockChannel>() {
                    @Override
                    protected void initChannel(VsockChannel ch) {
                        child.complete(ch);
                    }
                }).bind(VsockAddress.of(VsockAddress.CID_ANY, 5005)).sync().channel());
        // And the other way round: the server side shuts its output, the client (half-closure on) reads EOF.
        Collector clientSide = new Collector();
        VsockChannel client = (VsockChannel) track(client(clientSide).option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .connect(VsockAddress.local(5005)).sync().channel());
        VsockChannel accepted = (VsockChannel) child.get(10, TimeUnit.SECONDS);
        accepted.shutdownOutput().sync();
        clientSide.eof.get(30, TimeUnit.SECONDS);
        assertThat(client.isActive()).as("half-closed, still open").isTrue();
        assertThat(client.isInputShutdown()).isTrue();
        // The client shuts its output too: the accepted channel, without half-closure, closes. The client,
        // shut both ways, stays open until closed, as Netty's socket channels do.
        client.shutdownOutput().sync();
        assertThat(accepted.closeFuture().await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(client.isShutdown()).isTrue();
        client.close().sync();
    }

    @Test
    void closingWithWritesPendingFailsTheirPromisesAndLeaksNothing() throws Exception {
        track(new ServerBootstrap().group(group).channel(VsockServerChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInboundHandlerAdapter())
                .bind(VsockAddress.of(VsockAddress.CID_ANY, 5006)).sync().channel());
        Channel client = track(client(new ChannelInboundHandlerAdapter()).connect(VsockAddress.local(5006)).sync().channel());
        List<ChannelFuture> writes = client.eventLoop().submit(() -> {
            List<ChannelFuture> all = new ArrayList<>();
            for (int i = 0; i < 40; i++) { // 40 x 16 KiB: more than the 256 KiB window
                all.add(client.writeAndFlush(client.alloc().directBuffer(16 * 1024).writeZero(16 * 1024)));
            }
            return all;
        }).get(30, TimeUnit.SECONDS);
        client.close().sync();
        long failed = 0;
        for (ChannelFuture w : writes) {
            w.await(10, TimeUnit.SECONDS);
            assertThat(w.isDone()).isTrue();
            if (!w.isSuccess()) {
                assertThat(w.cause()).isInstanceOf(ClosedChannelException.class);
                failed++;
            }
        }
        assertThat(failed).as("writes beyond the window failed with the close").isPositive();
        assertThat(writes.getFirst().isSuccess()).as("the first write fit in the window").isTrue();
    }

    @Test
    void badAddressesFailWithAnErrorNamingThem() throws Exception {
        Throwable noCid = client(new ChannelInboundHandlerAdapter()).connect(VsockAddress.of(99, 5007)).await().cause();
        assertThat(noCid).hasMessageStartingWith("ENODEV").hasMessageContaining("99");
        Throwable nobody = client(new ChannelInboundHandlerAdapter()).connect(VsockAddress.local(5008)).await().cause();
        assertThat(nobody).hasMessageStartingWith("ECONNRESET").hasMessageContaining("1:5008");
        InetSocketAddress tcp = new InetSocketAddress("127.0.0.1", 5009);
        Throwable notVsock = client(new ChannelInboundHandlerAdapter()).connect(tcp).await().cause();
        assertThat(notVsock).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a vsock address")
                .hasMessageContaining("127.0.0.1:5009");
        Throwable bindTcp = new ServerBootstrap().group(group).channel(VsockServerChannel.class)
                .childHandler(new ChannelInboundHandlerAdapter()).bind(tcp).await().cause();
        assertThat(bindTcp).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("127.0.0.1:5009");
        assertThat(machine.boundCount()).as("failed channels closed their sockets").isZero();
    }

    @Test
    void smallBuffersFlushedTogetherTravelInOnePacketIntact() throws Exception {
        echoServer(5011, false);
        Collector got = new Collector();
        int count = 2 + random.nextInt(200);
        byte[][] pieces = new byte[count][];
        CRC32 crc = new CRC32();
        long total = 0;
        for (int i = 0; i < count; i++) {
            pieces[i] = randomBytes(200);
            crc.update(pieces[i]);
            total += pieces[i].length;
        }
        got.expected = total;
        Channel client = track(client(got).connect(VsockAddress.local(5011)).sync().channel());
        int clientPort = ((VsockAddress) client.localAddress()).port();
        AtomicLong dataPackets = new AtomicLong();
        machine.addTap((outbound, transport, packet) -> {
            if (outbound && packet.op == VirtioVsock.OP_RW && packet.source().port() == clientPort) {
                dataPackets.incrementAndGet();
            }
        });
        client.eventLoop().submit(() -> {
            for (byte[] p : pieces) {
                client.write(Unpooled.wrappedBuffer(p));
            }
            client.flush();
        }).get();
        assertThat(got.complete.get(30, TimeUnit.SECONDS)).isEqualTo(crc.getValue());
        assertThat(dataPackets.get()).as("%d buffers, %d bytes, in RW packets", count, total)
                .isEqualTo((total + 65535) / 65536);
    }

    @Test
    void smallBuffersGatheredIntoSendsCutShortByTheWindowArriveIntact() throws Exception {
        // The reader waits, so gathered sends end part way through the window and go on from the middle
        // of a buffer (the case a cached view of the outbound buffer once got wrong: grpc frames broke).
        CompletableFuture<Channel> child = new CompletableFuture<>();
        Collector received = new Collector();
        track(new ServerBootstrap().group(group).channel(VsockServerChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<VsockChannel>() {
                    @Override
                    protected void initChannel(VsockChannel ch) {
                        ch.pipeline().addLast(received);
                        child.complete(ch);
                    }
                }).bind(VsockAddress.of(VsockAddress.CID_ANY, 5012)).sync().channel());
        Channel client = track(client(new ChannelInboundHandlerAdapter()).connect(VsockAddress.local(5012)).sync().channel());
        CRC32 crc = new CRC32();
        long total = client.eventLoop().submit(() -> {
            long n = 0;
            while (n < 3 * WINDOW_BYTES) {
                for (int i = 0; i < 50; i++) {
                    byte[] piece = randomBytes(i % 10 == 9 ? 40_000 : 300);
                    crc.update(piece);
                    n += piece.length;
                    client.write(Unpooled.wrappedBuffer(piece));
                }
                client.flush();
            }
            return n;
        }).get(30, TimeUnit.SECONDS);
        received.expected = total;
        child.get(10, TimeUnit.SECONDS).config().setAutoRead(true);
        assertThat(received.complete.get(30, TimeUnit.SECONDS)).isEqualTo(crc.getValue());
        assertThat(received.bytes.get()).isEqualTo(total);
    }

    @Test
    void anIdleEventLoopParksInsteadOfSpinning() throws Exception {
        echoServer(5010, false);
        Collector got = new Collector();
        got.expected = 1;
        Channel client = track(client(got).connect(VsockAddress.local(5010)).sync().channel());
        client.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {7})).sync();
        got.complete.get(10, TimeUnit.SECONDS);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long loopThreadId = client.eventLoop().submit(() -> Thread.currentThread().threadId()).get();
        long cpuBefore = threads.getThreadCpuTime(loopThreadId);
        // Something observable half a second away, on the loop itself: a spinning loop would burn it all.
        long wallBefore = System.nanoTime();
        client.eventLoop().schedule(() -> { }, 500, TimeUnit.MILLISECONDS).get();
        long wall = System.nanoTime() - wallBefore;
        long cpu = threads.getThreadCpuTime(loopThreadId) - cpuBefore;
        assertThat(cpu).as("loop CPU time over %d ms of idle wall time", TimeUnit.NANOSECONDS.toMillis(wall))
                .isLessThan(wall / 5);
    }
}
