package io.vsock4j.transport.vhostuser;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Plays QEMU against a backend over a real Unix socket: sends requests (with descriptors), reads replies,
 * and owns the guest RAM memfd and the kick, call and err eventfds it hands over, as QEMU 7.2 does for a
 * vhost-user-vsock-pci device. Every wait is bounded by {@link #TIMEOUT_MILLIS}. Owned by the test thread.
 */
final class TestFrontend implements AutoCloseable {
    static final int TIMEOUT_MILLIS = 10_000;
    /** The protocol features QEMU 7.2's vhost-user code knows and would accept from this backend. */
    static final long QEMU_PROTOCOL_FEATURES = VhostUserFeatures.OFFERED_PROTOCOL;
    /** Ring size QEMU's vhost-vsock-common uses (VHOST_VSOCK_QUEUE_SIZE). */
    static final int RING_SIZE = 128;
    /** Where ring i's descriptor table, available and used rings sit in guest RAM (offsets into the memfd). */
    static final long RING_AREA = 0x10000;
    static final long RING_STRIDE = 0x4000;

    private final MessageChannel channel;
    private final List<AutoCloseable> owned = new ArrayList<>();
    /** The rings this frontend sets up: 2 as QEMU's vhost-user-vsock (rx, tx), or 3 with the event ring. */
    final int rings;
    /** The tx ring's size: {@link #RING_SIZE}, or more for a driver that offers more than one wake-up takes. */
    final int txRingSize;
    final EventFd[] kicks = new EventFd[VsockRings.RINGS];
    final EventFd[] calls = new EventFd[VsockRings.RINGS];
    GuestRam ram;
    private boolean closed;

    private TestFrontend(MessageChannel channel, int rings, int txRingSize) {
        this.channel = channel;
        this.rings = rings;
        this.txRingSize = txRingSize;
    }

    static TestFrontend connect(Path path) throws IOException {
        return connect(path, RecordingDevice.QUEUES);
    }

    /** A frontend that sets up {@code rings} rings: 3 hands the event ring to the backend too. */
    static TestFrontend connect(Path path, int rings) throws IOException {
        return connect(path, rings, RING_SIZE);
    }

    /** As {@link #connect(Path, int)}, with a tx ring of {@code txRingSize} entries (a power of two up to 512). */
    static TestFrontend connect(Path path, int rings, int txRingSize) throws IOException {
        if (Integer.bitCount(txRingSize) != 1 || txRingSize < RING_SIZE || txRingSize > 512) {
            throw new IllegalArgumentException("tx ring size " + txRingSize);
        }
        return new TestFrontend(new MessageChannel(UnixChannel.connect(path, TIMEOUT_MILLIS)), rings, txRingSize);
    }

    /** The size of ring {@code index}. */
    int ringSize(int index) {
        return index == VsockRings.TX ? txRingSize : RING_SIZE;
    }

    /**
     * Where ring {@code index}'s available ring starts, from its descriptor table: right after the table
     * (16 bytes an entry), 0x800 for the 128 entries QEMU uses.
     */
    long availOffset(int index) {
        return 16L * ringSize(index);
    }

    /** Where its used ring starts, from its descriptor table: past the available ring, on a 2 KiB boundary. */
    long usedOffset(int index) {
        long availBytes = 6 + 2L * ringSize(index);
        return availOffset(index) + (availBytes + 0x7FF) / 0x800 * 0x800;
    }

    void send(VhostUserRequest r, int flags, byte[] payload, int... fds) throws IOException {
        channel.send(VhostUserMessage.encode(r.code, flags, payload), fds);
    }

    void send(VhostUserRequest r, byte[] payload, int... fds) throws IOException {
        send(r, VhostUserMessage.VERSION, payload, fds);
    }

    void sendRaw(byte[] bytes, int... fds) throws IOException {
        channel.send(bytes, fds);
    }

    byte[] call(VhostUserRequest r, byte[] payload) throws IOException {
        send(r, payload);
        return channel.readReply(r);
    }

    byte[] readReply(VhostUserRequest r) throws IOException {
        return channel.readReply(r);
    }

    long getU64(VhostUserRequest r) throws IOException {
        return u64(call(r, new byte[0]));
    }

    /** Sends with need_reply and returns the REPLY_ACK payload. */
    long sendNeedingAck(VhostUserRequest r, byte[] payload, int... fds) throws IOException {
        send(r, VhostUserMessage.VERSION | VhostUserMessage.FLAG_NEED_REPLY, payload, fds);
        return u64(channel.readReply(r));
    }

    /** A round trip: once it returns, the backend has handled everything sent before. */
    void sync() throws IOException {
        getU64(VhostUserRequest.GET_FEATURES);
    }

    static long u64(byte[] payload) {
        assertThat(payload).hasSize(8);
        return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    static byte[] u64(long value) {
        return VhostUserMessage.u64Payload(value);
    }

    /** Sends one of SET_VRING_KICK, _CALL, _ERR with a new eventfd this frontend keeps; returns it. */
    EventFd sendRingFd(VhostUserRequest r, int index) throws IOException {
        EventFd e = own(EventFd.create());
        send(r, u64(index), e.fd());
        return e;
    }

    /** What QEMU 7.2 observed at start-up. */
    record Startup(long features, long protocolFeatures, long queues, byte[] config) {
    }

    /**
     * QEMU 7.2's opening, before the guest driver loads: GET_FEATURES, GET_PROTOCOL_FEATURES,
     * SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_OWNER, GET_FEATURES, SET_VRING_CALL and SET_VRING_ERR
     * per ring, GET_CONFIG of the 8-byte vsock config.
     */
    Startup startLikeQemu() throws IOException {
        long features = getU64(VhostUserRequest.GET_FEATURES);
        long protocol = getU64(VhostUserRequest.GET_PROTOCOL_FEATURES);
        send(VhostUserRequest.SET_PROTOCOL_FEATURES, u64(protocol & QEMU_PROTOCOL_FEATURES));
        long queues = getU64(VhostUserRequest.GET_QUEUE_NUM);
        send(VhostUserRequest.SET_OWNER, new byte[0]);
        getU64(VhostUserRequest.GET_FEATURES);
        for (int i = 0; i < rings; i++) {
            sendRingFd(VhostUserRequest.SET_VRING_CALL, i);
            sendRingFd(VhostUserRequest.SET_VRING_ERR, i);
        }
        byte[] reply = call(VhostUserRequest.GET_CONFIG, new ConfigSpace(0, 8, 0, new byte[8]).encode());
        return new Startup(features, protocol, queues, reply);
    }

    /**
     * What QEMU sends when the guest driver starts the device: SET_FEATURES, SET_MEM_TABLE, then per ring
     * SET_VRING_NUM, _BASE, _ADDR, _KICK, _CALL. Rings are enabled separately ({@link #enable}).
     */
    void driverStart(long features, int[] bases) throws IOException {
        send(VhostUserRequest.SET_FEATURES, u64(features));
        sendMemTable();
        for (int i = 0; i < rings; i++) {
            send(VhostUserRequest.SET_VRING_NUM, new VringState(i, ringSize(i)).encode());
            send(VhostUserRequest.SET_VRING_BASE, new VringState(i, bases[i]).encode());
            send(VhostUserRequest.SET_VRING_ADDR, ringAddress(i).encode());
            kicks[i] = sendRingFd(VhostUserRequest.SET_VRING_KICK, i);
            calls[i] = sendRingFd(VhostUserRequest.SET_VRING_CALL, i);
        }
    }

    /** SET_MEM_TABLE with this frontend's guest RAM (made on first use) and its memfd once per region. */
    void sendMemTable() throws IOException {
        if (ram == null) {
            ram = own(new GuestRam());
        }
        List<RegionDescription> table = ram.table();
        int[] fds = new int[table.size()];
        Arrays.fill(fds, ram.memfd);
        send(VhostUserRequest.SET_MEM_TABLE, VhostUserMessage.memoryTablePayload(table), fds);
    }

    VringAddress ringAddress(int i) {
        long base = RING_AREA + i * RING_STRIDE;
        return new VringAddress(i, 0, ram.userAddr(base), ram.userAddr(base + usedOffset(i)), ram.userAddr(base + availOffset(i)), 0);
    }

    void enable(int index, boolean on) throws IOException {
        send(VhostUserRequest.SET_VRING_ENABLE, new VringState(index, on ? 1 : 0).encode());
    }

    VringState getVringBase(int index) throws IOException {
        byte[] reply = call(VhostUserRequest.GET_VRING_BASE, new VringState(index, 0).encode());
        return VringState.decode(ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN));
    }

    /**
     * True when the backend closed the connection: a read sees end of stream, or ECONNRESET when the
     * backend closed with bytes of ours still unread (within the timeout).
     */
    boolean closedByBackend() throws IOException {
        try {
            channel.readReply(VhostUserRequest.GET_FEATURES);
            return false;
        } catch (SocketTimeoutException e) {
            throw e;
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            return m.startsWith("connection closed") || m.startsWith("ECONNRESET");
        }
    }

    <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    /** Closes the connection and everything the frontend owns; later calls do nothing. */
    @Override
    public void close() throws Exception {
        if (closed) {
            return;
        }
        closed = true;
        channel.close();
        for (AutoCloseable c : owned) {
            c.close();
        }
    }
}
