package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSeqpacketServerSocket;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.engine.Connection;
import io.vsock4j.testing.Blocked;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.wire.VirtioVsockHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Links over Unix domain sockets in one process: a host machine serving a socket path, guest machines
 * connecting to it, and hostile peers that speak raw bytes. The host survives all of them.
 */
class UnixLinkTest {
    @TempDir
    Path dir;

    private HostTransport h2g;
    private Machine host;
    private UnixLinkServer server;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void startHost() throws IOException {
        h2g = new HostTransport("unix-host", false);
        host = Machine.builder().name("host").transport(h2g).build();
        server = UnixLinkServer.serve(dir.resolve("link.sock"), h2g, 3);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
        server.close();
        host.close();
    }

    private <T extends AutoCloseable> T track(T c) {
        toClose.add(c);
        return c;
    }

    private Machine guest() throws IOException {
        return track(Machine.builder().name("guest").transport(UnixLinks.connectGuest(server.path())).build());
    }

    private void awaitGuests(int count) throws InterruptedException {
        for (int i = 0; i < 500 && h2g.guestCids().size() != count; i++) {
            Thread.sleep(10);
        }
        assertThat(h2g.guestCids()).hasSize(count);
    }

    @Test
    void guestsGetCidsInOrderAndTalkBothWays() throws Exception {
        Machine g3 = guest();
        Machine g4 = guest();
        assertThat(g3.localCid()).isEqualTo(3);
        assertThat(g4.localCid()).isEqualTo(4);
        awaitGuests(2);

        VsockServerSocket inHost = track(VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 600)));
        VsockSocket up = track(VsockSocket.connect(g4, VsockAddress.of(VsockAddress.CID_HOST, 600)));
        VsockSocket upAccepted = track(inHost.accept());
        assertThat(upAccepted.getRemoteAddress().cid()).isEqualTo(4);
        byte[] data = new byte[1 << 20];
        new java.util.Random(1).nextBytes(data);
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                up.getOutputStream().write(data);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(upAccepted.getInputStream().readNBytes(data.length)).isEqualTo(data);
        writer.join();

        VsockServerSocket inGuest = track(VsockServerSocket.bind(g3, VsockAddress.of(VsockAddress.CID_ANY, 700)));
        VsockSocket down = track(VsockSocket.connect(host, VsockAddress.of(3, 700)));
        VsockSocket downAccepted = track(inGuest.accept());
        downAccepted.getOutputStream().write("hello host".getBytes());
        assertThat(down.getInputStream().readNBytes(10)).isEqualTo("hello host".getBytes());

        // SEQPACKET was negotiated in the hello.
        VsockSeqpacketServerSocket seqServer = track(VsockSeqpacketServerSocket.bind(g3, VsockAddress.of(VsockAddress.CID_ANY, 800)));
        VsockSeqpacketSocket seq = track(VsockSeqpacketSocket.connect(host, VsockAddress.of(3, 800)));
        VsockSeqpacketSocket seqAccepted = track(seqServer.accept());
        seq.send("one message".getBytes());
        byte[] buf = new byte[64];
        assertThat(seqAccepted.receive(buf)).isEqualTo(11);
    }

    @Test
    void closingAGuestResetsItsConnectionsOnTheHost() throws Exception {
        Machine g = guest();
        awaitGuests(1);
        VsockServerSocket inHost = track(VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 600)));
        track(VsockSocket.connect(g, VsockAddress.of(VsockAddress.CID_HOST, 600)));
        VsockSocket accepted = track(inHost.accept());
        g.close();
        assertThatThrownBy(() -> accepted.getInputStream().read()).hasMessageStartingWith("ECONNRESET");
        awaitGuests(0);
    }

    /** Where a writer stopped against a reader that never reads: the receiver's accounting, and the writer. */
    private record Stall(long buffer, long maxQueued, long queued, long retained, long unacknowledged, Blocked.Call writer) {
    }

    /**
     * Connects from the host to {@code listener} (in a guest) and writes as fast as it can, in writes
     * of {@code shape} bytes in turn, on a platform thread of its own, while nobody reads the accepted
     * socket. Samples the receiving connection's queue until the writer is parked in send and the whole
     * buffer has arrived; fails at once, with the writer's exception, if the writer ends instead.
     */
    private Stall writeIntoAStalledReader(VsockServerSocket listener, int... shape) throws Exception {
        VsockSocket out = track(VsockSocket.connect(host, VsockAddress.of(3, listener.getLocalAddress().port())));
        Connection receiver = Machine.connectionOf(track(listener.accept()).handle());
        long buffer = receiver.credit().bufAlloc();
        Blocked.Call writer = Blocked.start("writer-" + Arrays.toString(shape), () -> {
            byte[] data = new byte[VirtioVsock.MAX_PACKET_PAYLOAD_BYTES];
            for (int i = 0; ; i++) {
                out.getOutputStream().write(data, 0, shape[i % shape.length]);
            }
        });
        long maxQueued = 0;
        do {
            maxQueued = Math.max(maxQueued, receiver.queuedBytes());
            if (!writer.thread().isAlive()) {
                throw new AssertionError("the writer of " + Arrays.toString(shape) + " ended", writer.end(Duration.ZERO));
            }
            Thread.onSpinWait();
        } while (!Blocked.parkedIn(writer.thread(), "send") || receiver.queuedBytes() < buffer);
        return new Stall(buffer, Math.max(maxQueued, receiver.queuedBytes()), receiver.queuedBytes(),
                receiver.retainedBytes(), out.unacknowledged(), writer);
    }

    /**
     * A writer on the host as fast as it can go against a guest reader that never reads, for four
     * shapes of write: full 64 KiB packets, 4000 bytes, 100 bytes (merged at the receiver), and 1 and
     * 129 bytes in turn (a small payload after one too large to merge, which held a 1 KiB array per
     * byte before ReceiveQueue cut such chunks). The engine's own accounting says where it stopped.
     */
    @Test
    @Timeout(60)
    void aFastWriterAgainstAStalledReaderStopsAtTheReadersBuffer() throws Exception {
        Machine g = guest();
        awaitGuests(1);
        VsockServerSocket listener = track(VsockServerSocket.bind(g, VsockAddress.of(VsockAddress.CID_ANY, 900)));
        for (int[] shape : new int[][] {{VirtioVsock.MAX_PACKET_PAYLOAD_BYTES}, {4000}, {100}, {1, 129}}) {
            Stall s = writeIntoAStalledReader(listener, shape);
            String what = "writes of " + Arrays.toString(shape);
            assertThat(s.maxQueued()).as(what + ": most bytes ever queued").isEqualTo(s.buffer());
            assertThat(s.unacknowledged()).as(what + ": what the writer has out").isEqualTo(s.buffer());
            // Arrays, not just bytes: every chunk but the last is at least 7/8 full.
            assertThat(s.retained()).as(what + ": heap held by the receive queue")
                    .isLessThanOrEqualTo(s.buffer() * 8 / 7 + 1024);
        }
        assertThat(h2g.guestCids()).as("the link stayed up").containsExactly(3);
    }

    /**
     * Found for issue #17 item 4: one-byte writes, each a packet and all within credit (256 Ki packets
     * for a 256 KiB buffer), outran the host link's writer and passed the link's old bound of 64 Ki
     * packets queued; the link dropped the guest as "peer stopped reading", though it never stopped, and
     * every connection of that guest was reset. Data now counts only against the link's byte bound.
     */
    @Test
    @Timeout(60)
    void oneByteWritesWithinCreditDoNotTakeTheLinkDown() throws Exception {
        Machine g = guest();
        awaitGuests(1);
        VsockServerSocket listener = track(VsockServerSocket.bind(g, VsockAddress.of(VsockAddress.CID_ANY, 901)));
        Stall s = writeIntoAStalledReader(listener, 1); // before the fix the writer ended with ECONNRESET
        assertThat(s.maxQueued()).isEqualTo(s.buffer());
        assertThat(h2g.guestCids()).as("the link stayed up").containsExactly(3);
    }

    // ------------------------------------------------------------------------------------------------
    // Hostile peers: raw bytes on the socket.

    /** A peer that does the guest hello by hand and then writes whatever the test wants. */
    private SocketChannel rawGuest() throws IOException {
        SocketChannel ch = track(SocketChannel.open(StandardProtocolFamily.UNIX));
        ch.connect(UnixDomainSocketAddress.of(server.path()));
        LinkHello offer = LinkHello.read(ch, Duration.ofSeconds(5));
        new LinkHello(LinkHello.VERSION, offer.features(), offer.guestCid()).write(ch);
        return ch;
    }

    private static void writeFrame(SocketChannel ch, Packet p) throws IOException {
        for (ByteBuffer b : FrameDecoder.encode(p)) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
    }

    private static Packet readFrame(SocketChannel ch) throws IOException {
        FrameDecoder d = new FrameDecoder();
        ByteBuffer one = ByteBuffer.allocate(1);
        Packet p;
        do {
            one.clear();
            if (ch.read(one) < 0) {
                return null;
            }
            one.flip();
        } while ((p = d.next(one)) == null);
        return p;
    }

    private static Packet packet(long src, int op, int type, int dstPort, int len) {
        Packet p = new Packet();
        p.srcCid = src;
        p.dstCid = VsockAddress.CID_HOST;
        p.srcPort = 5555;
        p.dstPort = dstPort;
        p.op = op;
        p.type = type;
        p.bufAlloc = 256 * 1024;
        p.len = len;
        p.payload = new byte[len];
        return p;
    }

    @Test
    void wrongSourceCidIsDroppedUnknownOpsAndTypesAreReset() throws Exception {
        SocketChannel ch = rawGuest();
        awaitGuests(1);
        writeFrame(ch, packet(9, VirtioVsock.OP_REQUEST, VirtioVsock.TYPE_STREAM, 600, 0));
        writeFrame(ch, packet(3, VirtioVsock.OP_REQUEST, 99, 600, 0));
        Packet rst = readFrame(ch);
        assertThat(rst.op).isEqualTo(VirtioVsock.OP_RST);
        assertThat(rst.type).isEqualTo(99); // the spoofed REQUEST got no answer: this is the second's
        assertThat(h2g.droppedPackets()).isEqualTo(1);
        writeFrame(ch, packet(3, 4242, VirtioVsock.TYPE_STREAM, 600, 0));
        assertThat(readFrame(ch).op).isEqualTo(VirtioVsock.OP_RST);
    }

    @Test
    void dataBeyondTheCreditResetsTheConnection() throws Exception {
        VsockServerSocket listener = track(VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 600)));
        SocketChannel ch = rawGuest();
        writeFrame(ch, packet(3, VirtioVsock.OP_REQUEST, VirtioVsock.TYPE_STREAM, 600, 0));
        Packet response = readFrame(ch);
        assertThat(response.op).isEqualTo(VirtioVsock.OP_RESPONSE);
        VsockSocket accepted = track(listener.accept());
        // The host buffers 256 KiB; five 64 KiB packets overrun it.
        for (int i = 0; i < 5; i++) {
            writeFrame(ch, packet(3, VirtioVsock.OP_RW, VirtioVsock.TYPE_STREAM, 600, VirtioVsock.MAX_PACKET_PAYLOAD_BYTES));
        }
        Packet p;
        while ((p = readFrame(ch)) != null && p.op != VirtioVsock.OP_RST) {
            assertThat(p.op).isEqualTo(VirtioVsock.OP_CREDIT_UPDATE);
        }
        assertThat(p).isNotNull();
        // The reader gets the 256 KiB that fit, then the reset shows as EOF or ECONNRESET, never a hang.
        accepted.setSoTimeout(2000);
        assertThat(accepted.getInputStream().readNBytes(256 * 1024)).hasSize(256 * 1024);
    }

    @Test
    void aLengthAbove64KiBDropsTheLinkAndOnlyThatLink() throws Exception {
        Machine good = guest();
        SocketChannel ch = rawGuest();
        awaitGuests(2);
        Packet p = packet(4, VirtioVsock.OP_RW, VirtioVsock.TYPE_STREAM, 600, 0);
        p.len = 1 << 30; // claims a gigabyte: the host must not allocate it
        ch.write(ByteBuffer.wrap(VirtioVsockHeader.encode(p)));
        assertThat(readFrame(ch)).as("the host closed the link").isNull();
        awaitGuests(1);
        VsockServerSocket inHost = track(VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 600)));
        track(VsockSocket.connect(good, VsockAddress.of(VsockAddress.CID_HOST, 600)));
        assertThat(track(inHost.accept()).isConnected()).isTrue();
    }

    @Test
    void aPeerThatSendsButNeverReadsIsDroppedBeforeItsRepliesPileUp() throws Exception {
        SocketChannel ch = rawGuest();
        awaitGuests(1);
        // Every REQUEST to a closed port earns an RST the peer never reads: the host's queue must stop.
        ByteBuffer frame = ByteBuffer.wrap(VirtioVsockHeader.encode(packet(3, VirtioVsock.OP_REQUEST, VirtioVsock.TYPE_STREAM, 600, 0)));
        ByteBuffer many = ByteBuffer.allocate(frame.capacity() * 1024);
        for (int i = 0; i < 1024; i++) {
            many.put(frame.duplicate());
        }
        long sentBytes = 0;
        boolean dropped = false;
        for (int i = 0; i < 2 * UnixLink.MAX_QUEUED_CONTROL_PACKETS / 1024 + 16 && !dropped; i++) {
            many.flip();
            try {
                while (many.hasRemaining()) {
                    sentBytes += ch.write(many);
                }
            } catch (IOException e) {
                dropped = true; // the host hung up on us
            }
        }
        long sentRequests = sentBytes / frame.capacity();
        assertThat(dropped).as("the host hung up while the peer was still sending (%d requests in)", sentRequests)
                .isTrue();
        // It hung up because its queue of unread RSTs passed the bound, not earlier: it had read more
        // requests than that, and every one it read still had its RST queued or in our socket buffer.
        assertThat(sentRequests).isGreaterThan(UnixLink.MAX_QUEUED_CONTROL_PACKETS);
        awaitGuests(0);
    }

    @Test
    void aTruncatedFrameAtEndOfStreamDropsTheLink() throws Exception {
        SocketChannel ch = rawGuest();
        awaitGuests(1);
        ch.write(ByteBuffer.wrap(new byte[20]));
        ch.close();
        awaitGuests(0);
    }

    @Test
    void aWrongHelloIsRefused() throws Exception {
        SocketChannel ch = track(SocketChannel.open(StandardProtocolFamily.UNIX));
        ch.connect(UnixDomainSocketAddress.of(server.path()));
        LinkHello.read(ch, Duration.ofSeconds(5));
        ByteBuffer bad = ByteBuffer.allocate(LinkHello.SIZE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bad.putInt(0xdeadbeef).putShort((short) 1).putShort((short) 0).putLong(3).flip();
        ch.write(bad);
        assertThat(ch.read(ByteBuffer.allocate(1))).isEqualTo(-1);
        assertThat(h2g.guestCids()).isEmpty();
    }

    @Test
    void aSilentPeerTimesOutInTheHello() throws Exception {
        Path path = dir.resolve("silent.sock");
        try (ServerSocketChannel silent = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            silent.bind(UnixDomainSocketAddress.of(path));
            SocketChannel ch = track(SocketChannel.open(StandardProtocolFamily.UNIX));
            ch.connect(UnixDomainSocketAddress.of(path));
            track(silent.accept());
            assertThatThrownBy(() -> LinkHello.read(ch, Duration.ofMillis(200))).hasMessageStartingWith("ETIMEDOUT");
        }
    }
}
