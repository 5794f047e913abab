package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Unix link's sending threads write their packets inline when the writer is idle, and hand the rest
 * to the writer: frames from many threads must still arrive whole and in each sender's order, a send
 * must never wait for a peer that does not read, and an interrupted sender must not take the link
 * down (a blocking channel would close itself on the interrupt).
 */
@Timeout(60)
class UnixLinkInlineWriteTest {
    @TempDir
    Path dir;

    private SocketChannel a;
    private SocketChannel b;
    private final List<UnixLink> links = new ArrayList<>();

    @BeforeEach
    void connect() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(dir.resolve("inline.sock")));
            a = SocketChannel.open(server.getLocalAddress());
            b = server.accept();
        }
    }

    @AfterEach
    void close() {
        links.forEach(UnixLink::close);
    }

    @Test
    void framesFromManySendersArriveWholeAndInEachSendersOrder() throws Exception {
        long seed = System.nanoTime();
        int senders = 4;
        int perSender = 400;
        UnixLink sender = link(a, "inline-tx", new Collect());
        Collect arrived = new Collect();
        link(b, "inline-rx", arrived);
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        for (int t = 0; t < senders; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    // Sizes from none to a full payload, so frames end anywhere in the socket's buffer.
                    SplittableRandom random = new SplittableRandom(seed + id);
                    for (int i = 0; i < perSender; i++) {
                        sender.send(packet(id, i, random.nextInt(VirtioVsock.MAX_PACKET_PAYLOAD_BYTES + 1)));
                    }
                } catch (Throwable e) {
                    failed.set(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(failed.get()).as("seed %d", seed).isNull();
        int[] next = new int[senders];
        for (int n = 0; n < senders * perSender; n++) {
            Packet p = arrived.packets.poll(30, TimeUnit.SECONDS);
            assertThat(p).as("packet %d of %d arrived (seed %d; link down: %s)", n, senders * perSender, seed,
                    arrived.down.get()).isNotNull();
            int id = p.srcPort;
            assertThat(p.fwdCnt).as("sender %d's packets in order (seed %d)", id, seed).isEqualTo(next[id]++);
            assertCarries(p, id, seed);
        }
        assertThat(arrived.down.get()).as("seed %d", seed).isNull();
    }

    @Test
    void aSendNeverWaitsForAPeerThatDoesNotRead() throws Exception {
        UnixLink sender = link(a, "stalled-tx", new Collect());
        // Far more than the socket's buffers hold, with nobody reading b yet: without the queue behind the
        // inline write, a send would block here until the test's timeout.
        int count = 200;
        for (int i = 0; i < count; i++) {
            sender.send(packet(0, i, VirtioVsock.MAX_PACKET_PAYLOAD_BYTES));
        }
        Collect arrived = new Collect();
        link(b, "stalled-rx", arrived);
        for (int i = 0; i < count; i++) {
            Packet p = arrived.packets.poll(30, TimeUnit.SECONDS);
            assertThat(p).as("packet %d arrived once the peer read", i).isNotNull();
            assertThat(p.fwdCnt).isEqualTo(i);
            assertCarries(p, 0, 0);
        }
    }

    @Test
    void anInterruptedSenderLeavesTheLinkUp() throws Exception {
        Collect sent = new Collect();
        UnixLink sender = link(a, "interrupt-tx", sent);
        Collect arrived = new Collect();
        link(b, "interrupt-rx", arrived);
        Thread.currentThread().interrupt();
        try {
            for (int i = 0; i < 50; i++) {
                sender.send(packet(0, i, VirtioVsock.MAX_PACKET_PAYLOAD_BYTES));
            }
        } finally {
            assertThat(Thread.interrupted()).as("the send left the interrupt to its caller").isTrue();
        }
        for (int i = 0; i < 50; i++) {
            Packet p = arrived.packets.poll(30, TimeUnit.SECONDS);
            assertThat(p).as("packet %d arrived (link down: %s)", i, sent.down.get()).isNotNull();
            assertThat(p.fwdCnt).isEqualTo(i);
        }
        assertThat(sent.down.get()).isNull();
        assertThat(arrived.down.get()).isNull();
    }

    /**
     * A peer that sends its last frames and closes: a write to it that then fails (EPIPE) must not throw
     * away what it sent, which still waits in the socket. The reader goes on to the end of the stream and
     * only then is the link down. (The shared machine's daemon, writing a credit update to a process that
     * had just closed, dropped that process's last frames, its SHUTDOWN among them, and reported its ports
     * GONE: its peer read ECONNRESET instead of EOF, in CI of session 17.)
     */
    @Test
    void aWriteThatFailsBecauseThePeerClosedLeavesWhatThePeerSentToBeRead() throws Exception {
        CountDownLatch firstArrived = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        Collect arrived = new Collect() {
            @Override
            public void packet(Packet packet) {
                super.packet(packet);
                if (packet.fwdCnt == 0) {
                    firstArrived.countDown(); // the reader stays here, so the rest waits in the socket
                    try {
                        letGo.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        UnixLink link = link(a, "closing-peer", arrived);
        writeFrame(b, packet(0, 0, 100));
        assertThat(firstArrived.await(30, TimeUnit.SECONDS)).isTrue();
        int last = 40;
        for (int i = 1; i <= last; i++) {
            writeFrame(b, packet(0, i, 1000));
        }
        b.close();
        try {
            for (int i = 0; i < 1000 && link.writesWork(); i++) {
                link.send(packet(1, i, 10)); // fails once the peer's close is seen: EPIPE
                Thread.sleep(5);
            }
            assertThat(link.writesWork()).as("a write to the closed peer failed").isFalse();
        } finally {
            letGo.countDown();
        }
        for (int i = 1; i <= last; i++) {
            Packet p = arrived.packets.poll(30, TimeUnit.SECONDS);
            if (p != null && p.fwdCnt == 0) {
                p = arrived.packets.poll(30, TimeUnit.SECONDS);
            }
            assertThat(p).as("frame %d of %d, sent before the peer closed (link down: %s)", i, last, arrived.down.get())
                    .isNotNull();
            assertThat(p.fwdCnt).isEqualTo(i);
            assertCarries(p, 0, 0);
        }
        for (int i = 0; i < 3000 && arrived.down.get() == null; i++) {
            Thread.sleep(10);
        }
        assertThat(arrived.down.get()).as("down once the stream ended").isEqualTo("peer closed the link");
    }

    private static void writeFrame(SocketChannel channel, Packet p) throws java.io.IOException {
        for (java.nio.ByteBuffer b : FrameDecoder.encode(p)) {
            while (b.hasRemaining()) {
                channel.write(b);
            }
        }
    }

    private UnixLink link(SocketChannel channel, String name, Collect receiver) {
        UnixLink link = UnixLink.over(channel, name);
        links.add(link);
        link.start(receiver);
        return link;
    }

    /** Payload bytes are a function of sender, sequence and index, so any interleaving shows. */
    private static Packet packet(int sender, int sequence, int length) {
        Packet p = Packet.control(VirtioVsock.TYPE_STREAM, VirtioVsock.OP_RW, 0,
                VsockAddress.of(VsockAddress.CID_LOCAL, sender), VsockAddress.of(VsockAddress.CID_LOCAL, 2000));
        p.fwdCnt = sequence;
        p.payload = new byte[length];
        for (int i = 0; i < length; i++) {
            p.payload[i] = (byte) (sender * 31 + sequence * 7 + i);
        }
        p.len = length;
        return p;
    }

    private static void assertCarries(Packet p, int sender, long seed) {
        for (int i = 0; i < p.len; i++) {
            if (p.payload[p.payloadOffset + i] != (byte) (sender * 31 + p.fwdCnt * 7 + i)) {
                throw new AssertionError("sender " + sender + " packet " + p.fwdCnt + ": byte " + i
                        + " is not its own (seed " + seed + ")");
            }
        }
    }

    private static class Collect implements PacketLink.Receiver {
        final LinkedBlockingQueue<Packet> packets = new LinkedBlockingQueue<>();
        final AtomicReference<String> down = new AtomicReference<>();

        @Override
        public void packet(Packet packet) {
            packets.add(packet);
        }

        @Override
        public void down(String reason) {
            down.set(reason);
        }
    }
}
