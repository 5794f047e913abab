package io.vsock4j.transport.vhostuser;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSeqpacketServerSocket;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.link.HostTransport;
import io.vsock4j.virtqueue.VirtioRing;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.wire.VirtioVsockHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.vsock4j.wire.VirtioVsock.OP_REQUEST;
import static io.vsock4j.wire.VirtioVsock.OP_RESPONSE;
import static io.vsock4j.wire.VirtioVsock.OP_RW;
import static io.vsock4j.wire.VirtioVsock.TYPE_SEQPACKET;
import static io.vsock4j.wire.VirtioVsock.TYPE_STREAM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The vsock device end to end without QEMU: {@link VhostUserVsock} on a Unix socket, a
 * {@link TestFrontend} playing QEMU (memfd guest RAM, eventfds), and a {@link GuestDriver} playing the
 * guest's virtio-vsock driver on that RAM, against a host machine whose H2G transport serves the guest.
 * Each hostile case is followed by a good packet that must be served as if nothing happened.
 */
@Timeout(60)
class VsockDeviceTest {
    static final int CID = 3;
    static final long FEATURES = VsockDevice.FEATURES | VhostUserFeatures.F_PROTOCOL_FEATURES;
    static final int PORT = 5000;

    @TempDir
    Path dir;
    HostTransport h2g;
    Machine host;
    VhostUserVsock device;
    final List<AutoCloseable> closeLast = new ArrayList<>();

    @BeforeEach
    void startHost() {
        h2g = new HostTransport("t", false);
        host = Machine.builder().name("host").transport(h2g).build();
    }

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable c : closeLast.reversed()) {
            c.close();
        }
        if (device != null) {
            device.close();
        }
        host.close();
    }

    private VhostUserVsock startDevice() throws IOException {
        device = VhostUserVsock.start(h2g, CID, dir.resolve("vm3.sock"));
        return device;
    }

    /** A frontend that starts the device as QEMU does and a driver with {@code rxBuffers} 4 KiB rx buffers posted. */
    private GuestDriver connectGuest(boolean eventIdx, int rxBuffers) throws IOException {
        return connectGuest(eventIdx, rxBuffers, TestFrontend.RING_SIZE);
    }

    /** As {@link #connectGuest(boolean, int)}, with a tx ring of {@code txRingSize} entries. */
    private GuestDriver connectGuest(boolean eventIdx, int rxBuffers, int txRingSize) throws IOException {
        TestFrontend f = TestFrontend.connect(device.socketPath(), RecordingDevice.QUEUES, txRingSize);
        closeLast.add(f);
        f.startLikeQemu();
        f.driverStart(eventIdx ? FEATURES : FEATURES & ~(1L << VirtioRing.F_EVENT_IDX_BIT), new int[] {0, 0});
        f.enable(GuestDriver.RX, true);
        f.enable(GuestDriver.TX, true);
        f.sync();
        assertThat(h2g.guestCids()).containsExactly(CID);
        GuestDriver g = new GuestDriver(f, eventIdx, CID);
        if (rxBuffers > 0) {
            g.postRx(rxBuffers, GuestDriver.RX_BUFFER_BYTES);
        }
        return g;
    }

    private GuestDriver startGuest() throws IOException {
        startDevice();
        return connectGuest(true, 64);
    }

    private VsockServerSocket listen(int port) throws IOException {
        VsockServerSocket s = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, port));
        s.setSoTimeout(10_000);
        closeLast.add(s);
        return s;
    }

    /** The guest connects from {@code guestPort}: REQUEST, the host's RESPONSE in the rx ring, the host accepts. */
    private VsockSocket guestConnects(GuestDriver guest, VsockServerSocket server, int guestPort) throws IOException {
        guest.send(guest.packet(OP_REQUEST, TYPE_STREAM, guestPort, PORT));
        assertResponse(guest.receiveSkippingCredit(), guestPort, PORT);
        VsockSocket s = server.accept();
        closeLast.add(s);
        assertThat(s.getRemoteAddress()).isEqualTo(VsockAddress.of(CID, guestPort));
        return s;
    }

    /** The guest's REQUEST of {@code type} from {@code guestPort}, with one rx buffer for the RESPONSE and none posted after it. */
    private void requestLeavingNoBuffer(GuestDriver guest, int type, int guestPort) throws IOException {
        guest.postRx(1, GuestDriver.RX_BUFFER_BYTES);
        guest.send(guest.packet(OP_REQUEST, type, guestPort, PORT));
        assertResponse(guest.receiveWithoutRefill().packet(), guestPort, PORT);
    }

    /** As {@link #guestConnects}, leaving the guest no rx buffer ({@link #requestLeavingNoBuffer}). */
    private VsockSocket guestConnectsLeavingNoBuffer(GuestDriver guest, VsockServerSocket server, int guestPort) throws IOException {
        requestLeavingNoBuffer(guest, TYPE_STREAM, guestPort);
        VsockSocket s = server.accept();
        closeLast.add(s);
        return s;
    }

    /** A SEQPACKET connection from the guest's {@code guestPort}, leaving the guest no rx buffer. */
    private VsockSeqpacketSocket seqpacketGuestConnectsLeavingNoBuffer(GuestDriver guest, int guestPort) throws IOException {
        VsockSeqpacketServerSocket server = VsockSeqpacketServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, PORT));
        closeLast.add(server);
        requestLeavingNoBuffer(guest, TYPE_SEQPACKET, guestPort);
        VsockSeqpacketSocket s = server.accept();
        closeLast.add(s);
        return s;
    }

    private static void assertResponse(Packet p, int guestPort, int hostPort) {
        assertThat(p.op).as("%s", p).isEqualTo(OP_RESPONSE);
        assertThat(p.srcCid).isEqualTo(2);
        assertThat(p.srcPort).isEqualTo(hostPort);
        assertThat(p.dstCid).isEqualTo(CID);
        assertThat(p.dstPort).as("%s", p).isEqualTo(guestPort);
    }

    @Test
    void aGuestRequestGetsAResponseInItsRxRingAndTheHostAccepts() throws Exception {
        GuestDriver guest = startGuest();
        VsockServerSocket server = listen(PORT);
        guestConnects(guest, server, 1234);
        assertThat(guest.awaitTxDone().len()).as("a tx chain comes back with nothing written").isZero();
        assertThat(host.connectionCount()).isEqualTo(1);
    }

    @Test
    void streamDataFlowsBothWaysAndAHostWriteLargerThanAnRxBufferArrivesInPieces() throws Exception {
        GuestDriver guest = startGuest();
        VsockServerSocket server = listen(PORT);
        VsockSocket s = guestConnects(guest, server, 1234);

        guest.send(guest.data(TYPE_STREAM, 1234, PORT, "hello from the guest".getBytes(StandardCharsets.US_ASCII)));
        byte[] got = new byte[20];
        s.setSoTimeout(10_000);
        s.getInputStream().readNBytes(got, 0, got.length);
        assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo("hello from the guest");

        byte[] sent = new byte[10_000];
        new Random(1).nextBytes(sent);
        s.getOutputStream().write(sent);
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        List<Integer> pieces = new ArrayList<>();
        while (received.size() < sent.length) {
            GuestDriver.Received r = guest.receive();
            Packet p = r.packet();
            if (p.op == VirtioVsock.OP_CREDIT_UPDATE) {
                continue;
            }
            assertThat(p.op).as("%s", p).isEqualTo(OP_RW);
            assertThat(p.len).isLessThanOrEqualTo(GuestDriver.RX_BUFFER_BYTES - GuestDriver.HEADER);
            assertThat(p.dstPort).isEqualTo(1234);
            received.write(p.payload);
            pieces.add(p.len);
        }
        assertThat(received.toByteArray()).isEqualTo(sent);
        assertThat(pieces).as("each piece in its own rx buffer with its own header").hasSizeGreaterThanOrEqualTo(3)
                .contains(GuestDriver.RX_BUFFER_BYTES - GuestDriver.HEADER);
        RingCounters c = device.counters();
        assertThat(c.txChains()).as("REQUEST and RW from the guest").isEqualTo(2);
        assertThat(c.rxChains()).as("RESPONSE, the pieces, credit updates").isGreaterThanOrEqualTo(1 + pieces.size());
        assertThat(c.interrupts()).isPositive().isLessThanOrEqualTo(c.wakeups() * 2);
    }

    @Test
    void theHostConnectsToAGuestListener() throws Exception {
        GuestDriver guest = startGuest();
        CompletableFuture<VsockSocket> connect = CompletableFuture.supplyAsync(() -> {
            try {
                return VsockSocket.connect(host, VsockAddress.of(CID, 7000));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Packet request = guest.receiveSkippingCredit();
        assertThat(request.op).isEqualTo(OP_REQUEST);
        assertThat(request.dstPort).isEqualTo(7000);
        Packet response = guest.packet(OP_RESPONSE, TYPE_STREAM, 7000, request.srcPort);
        guest.send(response);
        VsockSocket s = connect.get(10, TimeUnit.SECONDS);
        closeLast.add(s);
        s.getOutputStream().write(new byte[] {1, 2, 3});
        Packet data = guest.receiveSkippingCredit();
        assertThat(data.payload).containsExactly(1, 2, 3);
    }

    @Test
    void aSeqpacketMessageLargerThanAnRxBufferKeepsEomOnItsLastPieceOnly() throws Exception {
        GuestDriver guest = startGuest();
        VsockSeqpacketServerSocket server = VsockSeqpacketServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, PORT));
        closeLast.add(server);
        guest.send(guest.packet(OP_REQUEST, TYPE_SEQPACKET, 1234, PORT));
        assertResponse(guest.receiveSkippingCredit(), 1234, PORT);
        VsockSeqpacketSocket s = server.accept();
        closeLast.add(s);

        byte[] message = new byte[10_000];
        new Random(2).nextBytes(message);
        s.send(message);
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        List<Integer> flags = new ArrayList<>();
        while (received.size() < message.length) {
            Packet p = guest.receiveSkippingCredit();
            assertThat(p.op).isEqualTo(OP_RW);
            assertThat(p.type).isEqualTo(TYPE_SEQPACKET);
            received.write(p.payload);
            flags.add(p.flags);
        }
        assertThat(received.toByteArray()).isEqualTo(message);
        assertThat(flags).hasSizeGreaterThanOrEqualTo(3);
        int eomOrEor = VirtioVsock.SEQ_EOM | VirtioVsock.SEQ_EOR;
        assertThat(flags.subList(0, flags.size() - 1)).allMatch(f -> (f & eomOrEor) == 0);
        assertThat(flags.getLast() & VirtioVsock.SEQ_EOM).isEqualTo(VirtioVsock.SEQ_EOM);
    }

    /**
     * A stream's small writes that wait for rx buffers reach the guest joined: each buffer filled with the
     * same connection's bytes under one header, as far as they go, and never another connection's.
     */
    @Test
    void aStreamsWritesWaitingForBuffersReachTheGuestJoinedButNeverAcrossConnections() throws Exception {
        startDevice();
        GuestDriver guest = connectGuest(true, 0);
        VsockServerSocket server = listen(PORT);
        VsockSocket a = guestConnectsLeavingNoBuffer(guest, server, 1234);
        VsockSocket b = guestConnectsLeavingNoBuffer(guest, server, 1235);

        // With no buffer posted, every write waits in the device as a packet of its own: 150 of them.
        Random random = new Random(3);
        ByteArrayOutputStream toA = new ByteArrayOutputStream();
        ByteArrayOutputStream toB = new ByteArrayOutputStream();
        for (int run = 0; run < 3; run++) {
            VsockSocket s = run == 1 ? b : a;
            ByteArrayOutputStream sent = run == 1 ? toB : toA;
            for (int i = 0; i < 50; i++) {
                byte[] chunk = new byte[200];
                random.nextBytes(chunk);
                s.getOutputStream().write(chunk);
                sent.write(chunk);
            }
        }
        // The ring thread may still be in the wake-up of an earlier write: posting buffers then would have
        // the later writes reach the guest on their own (CI, session 17: the last 200 bytes in a buffer
        // of their own). Once it holds them all, the buffers are filled from all of them.
        for (int i = 0; i < 1000 && !device.ringThreadTookEverySend(); i++) {
            Thread.sleep(5);
        }
        assertThat(device.ringThreadTookEverySend()).as("the ring thread took all 150 writes").isTrue();
        guest.postRx(16, GuestDriver.RX_BUFFER_BYTES);

        ByteArrayOutputStream atA = new ByteArrayOutputStream();
        ByteArrayOutputStream atB = new ByteArrayOutputStream();
        List<String> packets = new ArrayList<>();
        while (atA.size() + atB.size() < toA.size() + toB.size()) {
            Packet p = guest.receiveSkippingCredit();
            assertThat(p.op).as("%s", p).isEqualTo(OP_RW);
            (p.dstPort == 1234 ? atA : atB).write(p.payload);
            packets.add(p.dstPort + ":" + p.len);
        }
        assertThat(atA.toByteArray()).isEqualTo(toA.toByteArray());
        assertThat(atB.toByteArray()).isEqualTo(toB.toByteArray());
        int full = GuestDriver.RX_BUFFER_BYTES - GuestDriver.HEADER;
        // Three runs of 10,000 bytes, each in two full buffers and its rest; the runs are never mixed.
        assertThat(packets).containsExactly("1234:" + full, "1234:" + full, "1234:" + (10_000 - 2 * full),
                "1235:" + full, "1235:" + full, "1235:" + (10_000 - 2 * full),
                "1234:" + full, "1234:" + full, "1234:" + (10_000 - 2 * full));
    }

    @Test
    void seqpacketMessagesWaitingForBuffersAreNeverJoined() throws Exception {
        startDevice();
        GuestDriver guest = connectGuest(true, 0);
        VsockSeqpacketSocket s = seqpacketGuestConnectsLeavingNoBuffer(guest, 1234);
        for (int i = 1; i <= 3; i++) {
            s.send(new byte[] {(byte) i, (byte) i});
        }
        guest.postRx(4, GuestDriver.RX_BUFFER_BYTES);
        for (int i = 1; i <= 3; i++) {
            Packet p = guest.receiveSkippingCredit();
            assertThat(p.op).isEqualTo(OP_RW);
            assertThat(p.payload).as("message %d alone in its packet", i).containsExactly(i, i);
            assertThat(p.flags & VirtioVsock.SEQ_EOM).isEqualTo(VirtioVsock.SEQ_EOM);
        }
    }

    @Test
    void aSeqpacketPieceInABufferWithRoomForAHeaderOnlyDoesNotEndTheMessage() throws Exception {
        startDevice();
        GuestDriver guest = connectGuest(true, 0);
        VsockSeqpacketSocket s = seqpacketGuestConnectsLeavingNoBuffer(guest, 1234);
        s.send(new byte[] {1, 2, 3});
        guest.postRx(1, GuestDriver.HEADER);
        Packet empty = guest.receiveWithoutRefill().packet();
        assertThat(empty.len).isZero();
        assertThat(empty.flags & (VirtioVsock.SEQ_EOM | VirtioVsock.SEQ_EOR)).as("the message goes on").isZero();
        guest.postRx(1, GuestDriver.RX_BUFFER_BYTES);
        Packet rest = guest.receiveWithoutRefill().packet();
        assertThat(rest.payload).containsExactly(1, 2, 3);
        assertThat(rest.flags & VirtioVsock.SEQ_EOM).isEqualTo(VirtioVsock.SEQ_EOM);
    }

    // ---- a hostile guest's tx chains ----

    private static byte[] header(Packet p) {
        return VirtioVsockHeader.encode(p);
    }

    private static byte[] withLen(byte[] header, int len) {
        byte[] h = header.clone();
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putInt(VirtioVsockHeader.OFFSET_LEN, len);
        return h;
    }

    /**
     * Sends a refused chain (built by {@code bad} from a REQUEST to the listener, which the host would
     * answer if it got it), then a good REQUEST from {@code goodPort}: the bad chain comes back empty,
     * the first answer in the rx ring is the good one's, and the host accepts only the good one.
     */
    private void refusedThenServed(GuestDriver guest, VsockServerSocket server, int goodPort, Runnable bad) throws Exception {
        long usedBefore = guest.tx.usedIdx();
        bad.run();
        guest.tx.kick();
        assertThat(guest.awaitTxDone().len()).isZero();
        guestConnects(guest, server, goodPort);
        assertThat(guest.tx.usedIdx()).isEqualTo((int) usedBefore + 2);
    }

    @Test
    void malformedTxChainsAreRefusedAndTheNextGoodPacketIsServed() throws Exception {
        GuestDriver guest = startGuest();
        VsockServerSocket server = listen(PORT);
        Packet request = guest.packet(OP_REQUEST, TYPE_STREAM, 666, PORT);
        byte[] h = header(request);
        Packet rw = guest.data(TYPE_STREAM, 666, PORT, new byte[100]);
        int good = 2000;

        // header len disagrees with the buffers: more payload than it says, and less
        refusedThenServed(guest, server, good++, () -> guest.tx.publish(guest.txChain(header(rw), new byte[150])));
        refusedThenServed(guest, server, good++, () -> guest.tx.publish(guest.txChain(header(rw), new byte[50])));
        refusedThenServed(guest, server, good++, () -> guest.tx.publish(guest.txChain(withLen(h, 10), new byte[5])));
        // a len over the 64 KiB a packet may carry, with the chain carrying all of it
        byte[][] huge = new byte[10][];
        huge[0] = header(guest.data(TYPE_STREAM, 666, PORT, new byte[0]));
        huge[0] = withLen(huge[0], 70_000);
        for (int i = 1; i < 10; i++) {
            huge[i] = new byte[i < 9 ? 8192 : 70_000 - 8 * 8192];
        }
        refusedThenServed(guest, server, good++, () -> guest.tx.publish(guest.txChain(huge)));
        // shorter than a header; a REQUEST with a payload
        refusedThenServed(guest, server, good++, () -> guest.tx.publish(guest.txChain(Arrays.copyOf(h, 30))));
        refusedThenServed(guest, server, good++, () -> guest.tx.publish(guest.txChain(withLen(h, 4), new byte[4])));
        // device-writable buffers in a tx chain
        refusedThenServed(guest, server, good++, () -> {
            int hd = guest.tx.take();
            int w = guest.tx.take();
            guest.write(guest.tx.buffer(hd), h);
            guest.tx.desc(hd, guest.tx.buffer(hd), h.length, 0, 0);
            guest.tx.desc(w, guest.tx.buffer(w), 64, VirtioRing.DESC_F_WRITE, 0);
            guest.tx.offerChain(new int[] {hd, w});
        });
        assertThat(host.connectionCount()).as("only the good requests got through").isEqualTo(good - 2000);
    }

    @Test
    void aPacketWithAnotherCidAsSourceIsDroppedByTheHostTransport() throws Exception {
        GuestDriver guest = startGuest();
        VsockServerSocket server = listen(PORT);
        Packet spoofed = guest.packet(OP_REQUEST, TYPE_STREAM, 666, PORT);
        spoofed.srcCid = 4;
        long dropped = h2g.droppedPackets();
        guest.send(spoofed);
        guest.awaitTxDone();
        guestConnects(guest, server, 2000);
        assertThat(h2g.droppedPackets()).isEqualTo(dropped + 1);
        assertThat(host.connectionCount()).isEqualTo(1);
    }

    @Test
    void aPacketLaidOutOverOddBuffersIsServed() throws Exception {
        GuestDriver guest = startGuest();
        VsockServerSocket server = listen(PORT);
        VsockSocket s = guestConnects(guest, server, 1234);
        byte[] payload = "split any way the driver likes".getBytes(StandardCharsets.US_ASCII);
        byte[] h = header(guest.data(TYPE_STREAM, 1234, PORT, payload));
        guest.sendRaw(Arrays.copyOfRange(h, 0, 10), Arrays.copyOfRange(h, 10, 30), Arrays.copyOfRange(h, 30, 44),
                Arrays.copyOfRange(payload, 0, 7), Arrays.copyOfRange(payload, 7, payload.length));
        s.setSoTimeout(10_000);
        assertThat(s.getInputStream().readNBytes(payload.length)).isEqualTo(payload);
    }

    // ---- a hostile guest's rx buffers and rings ----

    @Test
    void anRxBufferSmallerThanAHeaderReadableOrOutsideMemoryIsGivenBackEmptyAndTheNextOneIsUsed() throws Exception {
        startDevice();
        GuestDriver guest = connectGuest(true, 0);
        int small = guest.rx.take();
        guest.rx.desc(small, guest.rx.buffer(small), 20, VirtioRing.DESC_F_WRITE, 0);
        guest.rx.offerChain(new int[] {small});
        int readable = guest.rx.take();
        guest.rx.desc(readable, guest.rx.buffer(readable), 4096, 0, 0);
        guest.rx.offerChain(new int[] {readable});
        int outside = guest.rx.take();
        guest.rx.desc(outside, GuestRam.REGION_BYTES + 0x1000, 4096, VirtioRing.DESC_F_WRITE, 0);
        guest.rx.offerChain(new int[] {outside});
        guest.postRx(4, GuestDriver.RX_BUFFER_BYTES);
        VsockServerSocket server = listen(PORT);
        guest.send(guest.packet(OP_REQUEST, TYPE_STREAM, 1234, PORT));
        assertThat(guest.rx.awaitUsed()).isEqualTo(new GuestDriver.Used(small, 0));
        assertThat(guest.rx.awaitUsed()).isEqualTo(new GuestDriver.Used(readable, 0));
        assertThat(guest.rx.awaitUsed()).isEqualTo(new GuestDriver.Used(outside, 0));
        assertResponse(guest.receiveSkippingCredit(), 1234, PORT);
        assertThat(server.accept().getRemoteAddress().port()).isEqualTo(1234);
    }

    @Test
    void descriptorsOutsideGuestMemoryAndLoopsAreDroppedAndTheDeviceGoesOn() throws Exception {
        GuestDriver guest = startGuest();
        VsockServerSocket server = listen(PORT);
        byte[] h = header(guest.packet(OP_REQUEST, TYPE_STREAM, 666, PORT));
        int good = 2000;
        long[] outside = {
            GuestRam.REGION_BYTES + 0x1000, // the hole between low and high RAM
            GuestRam.REGION_BYTES - 20, // across the end of low RAM
            GuestRam.HIGH_GUEST_PHYS_ADDR + GuestRam.REGION_BYTES - 20, // past the end of high RAM
            -4096, // wraps
        };
        for (long address : outside) {
            refusedThenServed(guest, server, good++, () -> {
                int d = guest.tx.take();
                guest.tx.desc(d, address, h.length, 0, 0);
                guest.tx.offerChain(new int[] {d});
            });
        }
        refusedThenServed(guest, server, good++, () -> {
            int d = guest.tx.take();
            guest.write(guest.tx.buffer(d), h);
            guest.tx.link(new int[] {d});
            guest.tx.desc(d, guest.tx.buffer(d), h.length, VirtioRing.DESC_F_NEXT, d); // a chain into itself
            guest.tx.publish(d);
        });
        assertThat(host.connectionCount()).isEqualTo(good - 2000);
    }

    /**
     * A guest that offers more tx chains than one wake-up takes cannot starve rx: the ring thread takes
     * {@link VsockRings#TX_CHAINS_PER_WAKEUP} of them (vhost's weight), fills the rx buffers, delivers what
     * it took, and only then comes back for the rest. A tap that holds the first packet delivered stops
     * the ring thread right there, and the rings show what that wake-up did.
     */
    @Test
    void aTxRingFullerThanOneWakeupTakesLetsRxBeServedBeforeTheRest() throws Exception {
        startDevice();
        GuestDriver guest = connectGuest(true, 0, 512);
        VsockServerSocket server = listen(PORT);
        // The host's RESPONSE waits in the device: the guest has posted no rx buffer yet.
        guest.send(guest.packet(OP_REQUEST, TYPE_STREAM, 1234, PORT));
        closeLast.add(server.accept());
        assertThat(guest.awaitTxDone().len()).isZero();

        // One rx buffer, then more tx chains than a wake-up takes, all published without a kick but the last.
        int rxBuffer = guest.rx.take();
        guest.rx.desc(rxBuffer, guest.rx.buffer(rxBuffer), GuestDriver.RX_BUFFER_BYTES, VirtioRing.DESC_F_WRITE, 0);
        guest.rx.offerChain(new int[] {rxBuffer});
        int chains = VsockRings.TX_CHAINS_PER_WAKEUP + 44;
        int[] heads = new int[chains];
        for (int i = 0; i < chains; i++) {
            // RSTs for connections nobody has: the host drops them without an answer.
            heads[i] = guest.txChain(guest.packet(VirtioVsock.OP_RST, TYPE_STREAM, 4000 + i, 4000));
        }
        guest.tx.publishAll(heads);

        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        Machine.PacketTap holdFirst = (outbound, transport, p) -> {
            if (!outbound && first.compareAndSet(true, false)) {
                held.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        host.addTap(holdFirst);
        try {
            guest.tx.kick();
            assertThat(held.await(10, TimeUnit.SECONDS)).as("a packet from the guest was delivered").isTrue();
            assertThat(guest.tx.usedIdx()).as("tx chains given back before the first delivery (the REQUEST and one wake-up's)")
                    .isEqualTo(1 + VsockRings.TX_CHAINS_PER_WAKEUP);
            assertThat(guest.rx.usedIdx()).as("rx buffers filled in that wake-up").isEqualTo(1);
        } finally {
            release.countDown();
            host.removeTap(holdFirst);
        }
        for (int i = 0; i < chains; i++) {
            assertThat(guest.awaitTxDone().len()).isZero();
        }
        assertResponse(guest.receiveWithoutRefill().packet(), 1234, PORT);
        assertThat(host.connectionCount()).as("the RSTs touched nothing").isEqualTo(1);
    }

    @Test
    void aHeadOutsideTheTableBreaksTheTxRingUntilTheDriverResetsIt() throws Exception {
        GuestDriver guest = startGuest();
        VsockServerSocket server = listen(PORT);
        int first = guest.txChain(guest.packet(OP_REQUEST, TYPE_STREAM, 1001, PORT));
        int after = guest.txChain(guest.packet(OP_REQUEST, TYPE_STREAM, 1002, PORT));
        guest.tx.publishAll(first, TestFrontend.RING_SIZE + 72, after);
        guest.tx.kick();
        // The device handles one batch before delivering, so once the first is answered the break happened.
        assertResponse(guest.receiveSkippingCredit(), 1001, PORT);
        assertThat(server.accept().getRemoteAddress().port()).isEqualTo(1001);
        assertThat(guest.tx.usedIdx()).as("nothing after the bad entry is taken").isEqualTo(1);
        TestFrontend f = guest.frontend;
        assertThat(f.getVringBase(GuestDriver.TX).num()).as("GET_VRING_BASE: the index after the bad entry").isEqualTo(2);
        assertThat(host.connectionCount()).isEqualTo(1);

        // The driver resets the queue, as Linux does on a device reset: fresh ring, base 0, new eventfds.
        guest.tx.reset();
        f.send(VhostUserRequest.SET_VRING_BASE, new VringState(GuestDriver.TX, 0).encode());
        f.kicks[GuestDriver.TX] = f.sendRingFd(VhostUserRequest.SET_VRING_KICK, GuestDriver.TX);
        f.calls[GuestDriver.TX] = f.sendRingFd(VhostUserRequest.SET_VRING_CALL, GuestDriver.TX);
        f.enable(GuestDriver.TX, true);
        f.sync();
        guestConnects(guest, server, 1003);
    }

    // ---- the VMM goes away ----

    @Test
    void aFrontendThatLeavesResetsTheHostsConnectionsAndTheNextFrontendIsServed() throws Exception {
        GuestDriver guest = startGuest();
        VsockServerSocket server = listen(PORT);
        VsockSocket s = guestConnects(guest, server, 1234);
        s.setSoTimeout(10_000);
        CompletableFuture<Integer> read = CompletableFuture.supplyAsync(() -> {
            try {
                return s.getInputStream().read();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        guest.frontend.close();
        assertThatThrownBy(() -> read.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .rootCause().isInstanceOf(IOException.class).hasMessageStartingWith("ECONNRESET");
        assertThatThrownBy(() -> s.getOutputStream().write(1)).isInstanceOf(IOException.class);
        assertThat(h2g.guestCids()).isEmpty();

        GuestDriver next = connectGuest(true, 64);
        VsockSocket again = guestConnects(next, server, 1234);
        next.send(next.data(TYPE_STREAM, 1234, PORT, new byte[] {42}));
        again.setSoTimeout(10_000);
        assertThat(again.getInputStream().read()).isEqualTo(42);
    }

    // ---- the event queue ----

    /**
     * A frontend that hands over all three rings, as one that is not QEMU's vhost-user-vsock may, and a
     * driver with {@code rxBuffers} rx buffers and {@code eventBuffers} event buffers posted.
     */
    private GuestDriver connectGuestWithEventRing(int rxBuffers, int eventBuffers) throws IOException {
        TestFrontend f = TestFrontend.connect(device.socketPath(), VsockRings.RINGS);
        closeLast.add(f);
        f.startLikeQemu();
        f.driverStart(FEATURES, new int[] {0, 0, 0});
        for (int i = 0; i < VsockRings.RINGS; i++) {
            f.enable(i, true);
        }
        f.sync();
        GuestDriver g = new GuestDriver(f, true, CID);
        g.postRx(rxBuffers, GuestDriver.RX_BUFFER_BYTES);
        if (eventBuffers > 0) {
            g.postEvents(eventBuffers, GuestDriver.EVENT_BUFFER_BYTES);
        }
        return g;
    }

    @Test
    void aDeviceGivenTheEventRingSendsOneTransportResetPerSessionAndNoneWhenTheMemoryTableChanges() throws Exception {
        startDevice();
        VsockServerSocket server = listen(PORT);
        GuestDriver guest = connectGuestWithEventRing(64, 8);
        assertThat(guest.awaitEvent()).isEqualTo(VirtioVsock.EVENT_TRANSPORT_RESET);

        // The backend restarts every ring around a new memory table: that session's connections are its own.
        guest.frontend.sendMemTable();
        guest.frontend.sync();
        guestConnects(guest, server, 1234);
        // The wake-up that wrote the first RESPONSE served the event ring too, and ended before the second.
        guestConnects(guest, server, 1235);
        assertThat(guest.event.pendingUsed()).as("events after the memory-table change").isZero();

        // A new VMM session (the device, or the VMM, restarted): one more reset for the guest's stale connections.
        guest.frontend.close();
        GuestDriver next = connectGuestWithEventRing(64, 8);
        assertThat(next.awaitEvent()).isEqualTo(VirtioVsock.EVENT_TRANSPORT_RESET);
        guestConnects(next, server, 1236);
        assertThat(next.event.pendingUsed()).isZero();
    }

    @Test
    void anEventOwedWhileTheDriverHasNoEventBufferWaitsForItsKick() throws Exception {
        startDevice();
        GuestDriver guest = connectGuestWithEventRing(8, 0);
        // A chain too short for the event is given back empty; the next one gets the event.
        guest.postEvents(1, 2);
        assertThat(guest.event.awaitUsed().len()).isZero();
        guest.postEvents(1, GuestDriver.EVENT_BUFFER_BYTES);
        assertThat(guest.awaitEvent()).isEqualTo(VirtioVsock.EVENT_TRANSPORT_RESET);
    }

    // ---- what a device leaves behind ----

    /** One device's life: a frontend, a connection, the frontend leaves, another one, close. */
    private void deviceLife(VsockServerSocket server) throws Exception {
        startDevice();
        GuestDriver guest = connectGuest(true, 16);
        VsockSocket s = guestConnects(guest, server, 1234);
        guest.frontend.close();
        s.setSoTimeout(10_000);
        assertThatThrownBy(() -> s.getInputStream().read()).hasMessageStartingWith("ECONNRESET");
        GuestDriver next = connectGuest(false, 16);
        guestConnects(next, server, 1235);
        device.close();
        next.frontend.close();
        assertThat(threads("vhost-user")).as("threads left after close").isEmpty();
    }

    private static List<String> threads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).filter(n -> n.startsWith(prefix)).toList();
    }

    /** This process's open descriptors, as "fd -> target". */
    static List<String> openFds() throws IOException {
        List<String> out = new ArrayList<>();
        try (var fds = java.nio.file.Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    out.add(fd.getFileName() + " -> " + java.nio.file.Files.readSymbolicLink(fd));
                } catch (IOException e) {
                    // the directory stream's own descriptor, gone by now
                }
            }
        }
        return out;
    }

    @Test
    void sessionsAndCloseLeaveNoThreadAndNoDescriptor() throws Exception {
        VsockServerSocket server = listen(PORT);
        deviceLife(server); // warm-up: classes, and whatever the JDK opens lazily
        List<String> before = openFds();
        for (int i = 0; i < 3; i++) {
            deviceLife(server);
        }
        List<String> after = openFds();
        assertThat(after).as("descriptors before: %s", before).hasSameSizeAs(before);
        assertThat(threads("vhost-user")).isEmpty();
    }

    @Test
    void aSecondDeviceForARunningGuestCidServesNothingAndLeaksNothing() throws Exception {
        GuestDriver first = startGuest();
        VhostUserVsock second = VhostUserVsock.start(h2g, CID, dir.resolve("second.sock"));
        closeLast.add(second);
        int baseline = fdsWithAProbe(second);
        for (int i = 0; i < 3; i++) {
            try (TestFrontend f = TestFrontend.connect(second.socketPath())) {
                f.startLikeQemu();
                f.driverStart(FEATURES, new int[] {0, 0});
                f.enable(GuestDriver.RX, true);
                f.enable(GuestDriver.TX, true);
                f.sync();
            }
        }
        assertThat(fdsWithAProbe(second)).as("descriptors, with a frontend connected").isEqualTo(baseline);
        assertThat(h2g.guestCids()).containsExactly(CID);
        guestConnects(first, listen(PORT), 1234);
    }

    /** Descriptors while a fresh frontend is connected (which also means the one before it is released). */
    private static int fdsWithAProbe(VhostUserVsock device) throws Exception {
        try (TestFrontend probe = TestFrontend.connect(device.socketPath())) {
            probe.sync();
            return openFds().size();
        }
    }

    @Test
    void anIdleDeviceSleeps() throws Exception {
        GuestDriver guest = startGuest();
        VsockServerSocket server = listen(PORT);
        VsockSocket s = guestConnects(guest, server, 1234);
        s.getOutputStream().write(new byte[3000]);
        guest.receiveSkippingCredit();
        Thread ring = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("vhost-user-vsock cid 3 rings")).findFirst().orElseThrow();
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpuBefore = mx.getThreadCpuTime(ring.threadId());
        long start = System.nanoTime();
        int rxUsed = guest.rx.usedIdx();
        RingCounters before = device.counters();
        // The idle period: the guest waits for an rx interrupt an idle device never sends, 200 times.
        for (int i = 0; i < 200; i++) {
            guest.rx.waitForCall(5);
        }
        long idleNanos = System.nanoTime() - start;
        long cpuNanos = mx.getThreadCpuTime(ring.threadId()) - cpuBefore;
        System.out.printf("ring thread CPU over %.0f ms idle: %.3f ms%n", idleNanos / 1e6, cpuNanos / 1e6);
        assertThat(guest.rx.usedIdx()).isEqualTo(rxUsed);
        assertThat(device.counters().minus(before)).as("ring thread's work while idle").isEqualTo(new RingCounters(0, 0, 0, 0));
        assertThat(idleNanos).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(1000));
        assertThat(cpuNanos).as("ring thread CPU over %d ms idle", idleNanos / 1_000_000)
                .isLessThan(TimeUnit.MILLISECONDS.toNanos(5));
    }
}
