package io.vsock4j.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.link.GuestTransport;
import io.vsock4j.transport.link.HostTransport;
import io.vsock4j.transport.loopback.LoopbackTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Netty transport across a host/guest link in one JVM (a host machine at CID 2, a guest at CID 3,
 * joined by an in-memory link whose transports deliver on threads of their own, unlike the loopback,
 * which delivers on the sending thread): echoes both ways, many channels at once, each side on its own
 * event-loop group and machine. Under the PARANOID leak detector; randomness seeded and printed.
 */
class LinkPairNettyTest {
    static {
        LeakRecorder.install();
    }

    private static final int GUEST_CID = 3;

    private SplittableRandom random;
    private Machine host;
    private Machine guest;
    private EventLoopGroup hostGroup;
    private EventLoopGroup guestGroup;
    private final List<Channel> channels = new ArrayList<>();

    @BeforeEach
    void link() throws Exception {
        long seed = Long.getLong("vsock4j.test.seed", System.nanoTime());
        System.out.println("LinkPairNettyTest seed " + seed + " (-Dvsock4j.test.seed=N to replay)");
        random = new SplittableRandom(seed);
        HostTransport hostSide = new HostTransport("host", false);
        host = Machine.builder().name("host").transport(hostSide).transport(new LoopbackTransport()).build();
        GuestTransport guestSide = hostSide.attachInMemory(GUEST_CID);
        guest = Machine.builder().name("guest").transport(guestSide).transport(new LoopbackTransport()).build();
        hostGroup = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory(host));
        guestGroup = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory(guest));
    }

    @AfterEach
    void unlink() throws Exception {
        for (Channel c : channels) {
            c.close().syncUninterruptibly();
        }
        guestGroup.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        hostGroup.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        guest.close();
        host.close();
        assertThat(LeakRecorder.collectLeaks()).as("buffers Netty's leak detector found unreleased").isEmpty();
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
    }

    /** CRC of what arrives, completed once {@code expected} bytes came; the loop's thread only. */
    private static final class Sink extends ChannelInboundHandlerAdapter {
        final CRC32 crc = new CRC32();
        final long expected;
        long bytes;
        final CompletableFuture<Long> done = new CompletableFuture<>();

        Sink(long expected) {
            this.expected = expected;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            b.release();
            crc.update(a);
            bytes += a.length;
            if (bytes == expected) {
                done.complete(crc.getValue());
            }
        }
    }

    /** Echo server on {@code serverGroup}'s machine at PORT, {@code count} clients from {@code clientGroup} to (cid, PORT). */
    private void echoes(EventLoopGroup serverGroup, EventLoopGroup clientGroup, int cid, int port, int count) throws Exception {
        channels.add(new ServerBootstrap().group(serverGroup).channel(VsockServerChannel.class).childHandler(new Echo())
                .bind(VsockAddress.of(VsockAddress.CID_ANY, port)).sync().channel());
        List<Sink> sinks = new ArrayList<>();
        List<Long> crcs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] data = new byte[1 + random.nextInt(1 << 20)];
            random.nextBytes(data);
            CRC32 crc = new CRC32();
            crc.update(data);
            crcs.add(crc.getValue());
            Sink sink = new Sink(data.length);
            sinks.add(sink);
            Channel c = new Bootstrap().group(clientGroup).channel(VsockChannel.class).handler(sink)
                    .connect(VsockAddress.of(cid, port)).sync().channel();
            channels.add(c);
            assertThat(((VsockAddress) c.remoteAddress()).cid()).isEqualTo(cid);
            c.writeAndFlush(c.alloc().heapBuffer(data.length).writeBytes(data));
        }
        for (int i = 0; i < count; i++) {
            assertThat(sinks.get(i).done.get(60, TimeUnit.SECONDS)).as("channel " + i).isEqualTo(crcs.get(i));
        }
    }

    @Test
    void aGuestsChannelsEchoThroughTheHostsServer() throws Exception {
        echoes(hostGroup, guestGroup, VsockAddress.CID_HOST, 5100, 20);
    }

    @Test
    void theHostsChannelsEchoThroughTheGuestsServer() throws Exception {
        echoes(guestGroup, hostGroup, GUEST_CID, 5101, 20);
    }
}
