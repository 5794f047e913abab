package io.vsock4j.transport.vhostuser;

import io.vsock4j.virtqueue.VirtioRing;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.wire.VirtioVsockHeader;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The guest's virtio-vsock driver for device tests, as Linux's virtio_transport plays it, over a
 * {@link TestFrontend}'s guest RAM: it writes descriptors and the available rings where the frontend
 * told the backend they are, kicks the frontend's kick eventfds when the device asks for it (used.flags,
 * or avail_event with EVENT_IDX), and reads used entries, waiting on the call eventfds. Owned by the
 * test thread (a flood test may hand it to one other thread).
 *
 * <p>Buffers: rx descriptor {@code i} owns 4 KiB of low RAM at {@link #RX_DATA_GPA} + i * 4096, as
 * Linux's rx buffers are; tx descriptor {@code i} owns 8 KiB of high RAM (above 4 GiB). A test may also
 * write raw descriptors anywhere, to play a hostile driver.
 */
final class GuestDriver {
    static final int RX = 0;
    static final int TX = 1;
    static final long RX_DATA_GPA = 0x20000;
    static final int RX_BUFFER_BYTES = 4096;
    static final long TX_DATA_GPA = GuestRam.HIGH_GUEST_PHYS_ADDR;
    static final int TX_BUFFER_BYTES = 8192;
    static final int EVENT = 2;
    /** Event descriptor {@code i} owns 16 bytes here, above the rx buffers. */
    static final long EVENT_DATA_GPA = RX_DATA_GPA + (long) TestFrontend.RING_SIZE * RX_BUFFER_BYTES;
    static final int EVENT_BUFFER_BYTES = 16;
    static final int HEADER = VirtioVsock.HEADER_SIZE_BYTES;
    static final long WAIT_MILLIS = 10_000;

    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INDEX = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    final TestFrontend frontend;
    final boolean eventIdx;
    final int cid;
    final Ring rx;
    final Ring tx;
    /** The event ring; only used against a frontend that hands it to the backend. */
    final Ring event;

    GuestDriver(TestFrontend frontend, boolean eventIdx, int cid) {
        this.frontend = frontend;
        this.eventIdx = eventIdx;
        this.cid = cid;
        rx = new Ring(RX);
        tx = new Ring(TX);
        event = new Ring(EVENT);
    }

    /** The frontend mapping's bytes at a guest-physical address of either region. */
    MemorySegment at(long gpa, long length) {
        long offset = gpa >= GuestRam.HIGH_GUEST_PHYS_ADDR ? gpa - GuestRam.HIGH_GUEST_PHYS_ADDR + GuestRam.REGION_BYTES : gpa;
        return frontend.ram.mapping.asSlice(offset, length);
    }

    void write(long gpa, byte[] bytes) {
        MemorySegment.copy(bytes, 0, at(gpa, bytes.length), ValueLayout.JAVA_BYTE, 0, bytes.length);
    }

    byte[] read(long gpa, int length) {
        return at(gpa, length).toArray(ValueLayout.JAVA_BYTE);
    }

    /** One used entry. */
    record Used(int id, int len) {
    }

    /** One ring of the driver; the guest-physical layout is the one TestFrontend sends in SET_VRING_ADDR. */
    final class Ring {
        final int index;
        final int size;
        final long descGpa;
        final long availGpa;
        final long usedGpa;
        private final ArrayDeque<Integer> free = new ArrayDeque<>();
        private final Map<Integer, int[]> chains = new HashMap<>();
        private int availIdx;
        private int kickedIdx;
        private int lastUsed;

        Ring(int index) {
            this.index = index;
            size = frontend.ringSize(index);
            descGpa = TestFrontend.RING_AREA + index * TestFrontend.RING_STRIDE;
            availGpa = descGpa + frontend.availOffset(index);
            usedGpa = descGpa + frontend.usedOffset(index);
            for (int i = 0; i < size; i++) {
                free.add(i);
            }
        }

        /** Zeroes the ring's memory and forgets everything: a driver that resets the queue. */
        void reset() {
            at(descGpa, TestFrontend.RING_STRIDE).fill((byte) 0);
            free.clear();
            chains.clear();
            for (int i = 0; i < size; i++) {
                free.add(i);
            }
            availIdx = 0;
            kickedIdx = 0;
            lastUsed = 0;
        }

        /** The buffer descriptor {@code i} owns. */
        long buffer(int i) {
            return switch (index) {
                case RX -> RX_DATA_GPA + (long) i * RX_BUFFER_BYTES;
                case TX -> TX_DATA_GPA + (long) i * TX_BUFFER_BYTES;
                default -> EVENT_DATA_GPA + (long) i * EVENT_BUFFER_BYTES;
            };
        }

        int freeCount() {
            return free.size();
        }

        int take() {
            Integer d = free.poll();
            if (d == null) {
                throw new AssertionError("ring " + index + ": no free descriptor");
            }
            return d;
        }

        void desc(int i, long addr, int len, int flags, int next) {
            MemorySegment d = at(descGpa + (long) VirtioRing.DESC_SIZE_BYTES * i, VirtioRing.DESC_SIZE_BYTES);
            d.set(LE64, VirtioRing.DESC_OFFSET_ADDR, addr);
            d.set(LE32, VirtioRing.DESC_OFFSET_LEN, len);
            d.set(LE16, VirtioRing.DESC_OFFSET_FLAGS, (short) flags);
            d.set(LE16, VirtioRing.DESC_OFFSET_NEXT, (short) next);
        }

        /**
         * Links {@code descs} (already written but for NEXT) into a chain, remembers it so its descriptors
         * are freed when it comes back, and publishes its head.
         */
        void offerChain(int[] descs) {
            link(descs);
            publish(descs[0]);
        }

        /** Links and remembers a chain without publishing it; returns its head. */
        int link(int[] descs) {
            for (int i = 0; i < descs.length; i++) {
                MemorySegment d = at(descGpa + (long) VirtioRing.DESC_SIZE_BYTES * descs[i], VirtioRing.DESC_SIZE_BYTES);
                int flags = Short.toUnsignedInt(d.get(LE16, VirtioRing.DESC_OFFSET_FLAGS)) & ~VirtioRing.DESC_F_NEXT;
                if (i + 1 < descs.length) {
                    flags |= VirtioRing.DESC_F_NEXT;
                    d.set(LE16, VirtioRing.DESC_OFFSET_NEXT, (short) descs[i + 1]);
                }
                d.set(LE16, VirtioRing.DESC_OFFSET_FLAGS, (short) flags);
            }
            chains.put(descs[0], descs);
            return descs[0];
        }

        /** Publishes several heads with one move of avail.idx, so the device sees them in one batch. */
        void publishAll(int... heads) {
            for (int i = 0; i < heads.length; i++) {
                at(availGpa + VirtioRing.AVAIL_OFFSET_RING + 2L * ((availIdx + i) & (size - 1)), 2).set(LE16, 0, (short) heads[i]);
            }
            setAvailIdx(availIdx + heads.length);
        }

        /** Puts {@code head} in the next available slot and moves avail.idx (release). */
        void publish(int head) {
            at(availGpa + VirtioRing.AVAIL_OFFSET_RING + 2L * (availIdx & (size - 1)), 2).set(LE16, 0, (short) head);
            setAvailIdx(availIdx + 1);
        }

        /** Publishes any avail.idx, a hostile driver's jump included. */
        void setAvailIdx(int idx) {
            availIdx = idx & 0xFFFF;
            INDEX.setRelease(at(availGpa, 4), (long) VirtioRing.AVAIL_OFFSET_IDX, (short) availIdx);
        }

        int availIdx() {
            return availIdx;
        }

        /** Kicks if the device asked to hear about the entries published since the last kick (virtqueue_kick_prepare). */
        void kick() throws IOException {
            VarHandle.fullFence();
            boolean needed;
            if (eventIdx) {
                int availEvent = Short.toUnsignedInt(at(usedGpa + VirtioRing.availEventOffset(size), 2).get(LE16, 0));
                needed = VirtioRing.needEvent(availEvent, availIdx, kickedIdx);
            } else {
                needed = (usedFlags() & VirtioRing.USED_F_NO_NOTIFY) == 0;
            }
            kickedIdx = availIdx;
            if (needed) {
                frontend.kicks[index].signal();
            }
        }

        int usedIdx() {
            return Short.toUnsignedInt((short) INDEX.getAcquire(at(usedGpa, 4), (long) VirtioRing.USED_OFFSET_IDX));
        }

        int usedFlags() {
            return Short.toUnsignedInt(at(usedGpa, 2).get(LE16, 0));
        }

        /** Used entries the driver has not taken yet. */
        int pendingUsed() {
            return (usedIdx() - lastUsed) & 0xFFFF;
        }

        /** The next used entry if there is one, its descriptors freed; null if none. */
        Used pollUsed() {
            if (usedIdx() == lastUsed) {
                return null;
            }
            MemorySegment e = at(usedGpa + VirtioRing.USED_OFFSET_RING
                    + (long) VirtioRing.USED_ELEM_SIZE_BYTES * (lastUsed & (size - 1)), VirtioRing.USED_ELEM_SIZE_BYTES);
            Used u = new Used(e.get(LE32, VirtioRing.USED_ELEM_OFFSET_ID), e.get(LE32, VirtioRing.USED_ELEM_OFFSET_LEN));
            lastUsed = (lastUsed + 1) & 0xFFFF;
            int[] descs = chains.remove(u.id());
            if (descs == null) {
                throw new AssertionError("ring " + index + ": used id " + u.id() + " is no chain the driver offered");
            }
            for (int d : descs) {
                free.add(d);
            }
            return u;
        }

        /** Waits for the next used entry, sleeping on the call eventfd (used_event asks for every entry). */
        Used awaitUsed() throws IOException {
            long deadline = System.nanoTime() + WAIT_MILLIS * 1_000_000;
            while (true) {
                if (eventIdx) {
                    INDEX.setRelease(at(availGpa, VirtioRing.usedEventOffset(size) + 2), VirtioRing.usedEventOffset(size), (short) lastUsed);
                }
                VarHandle.fullFence();
                Used u = pollUsed();
                if (u != null) {
                    return u;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("ring " + index + ": no used entry within " + WAIT_MILLIS + " ms (avail.idx "
                            + availIdx + ", used.idx " + usedIdx() + ")");
                }
                waitForCall(Math.min(50, left / 1_000_000 + 1));
            }
        }

        void waitForCall(long millis) throws IOException {
            EventFd call = frontend.calls[index];
            int r = UnixNative.poll(new int[] {call.fd()}, new short[] {UnixAbi.POLLIN}, new short[1], (int) millis);
            if (r > 0) {
                call.drain();
            }
        }
    }

    // ---- vsock on top of the rings ----

    /** Posts {@code count} rx buffers of {@code bytes} each (one writable descriptor apiece) and kicks. */
    void postRx(int count, int bytes) throws IOException {
        postWritable(rx, count, bytes);
    }

    private static void postWritable(Ring ring, int count, int bytes) throws IOException {
        for (int i = 0; i < count; i++) {
            int d = ring.take();
            ring.desc(d, ring.buffer(d), bytes, VirtioRing.DESC_F_WRITE, 0);
            ring.offerChain(new int[] {d});
        }
        ring.kick();
    }

    /** Posts {@code count} event buffers of {@code bytes} each, as Linux's virtio_vsock_event_fill does, and kicks. */
    void postEvents(int count, int bytes) throws IOException {
        postWritable(event, count, bytes);
    }

    /** Waits for the next event and returns its id (struct virtio_vsock_event), checking its used length. */
    int awaitEvent() throws IOException {
        Used u = event.awaitUsed();
        if (u.len() != VirtioVsock.EVENT_SIZE_BYTES) {
            throw new AssertionError("event used entry " + u + ": not " + VirtioVsock.EVENT_SIZE_BYTES + " bytes");
        }
        return ByteBuffer.wrap(read(event.buffer(u.id()), 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    /** A packet the guest received, and the used length of the buffer it came in. */
    record Received(Packet packet, int usedLen) {
    }

    /** The next packet in the rx ring; its buffer is posted again (4 KiB), as Linux refills. */
    Received receive() throws IOException {
        Received r = receiveWithoutRefill();
        postRx(1, RX_BUFFER_BYTES);
        return r;
    }

    /** The next packet in the rx ring, its buffer not posted again: a driver that lets the device run out. */
    Received receiveWithoutRefill() throws IOException {
        Used u = rx.awaitUsed();
        long gpa = rx.buffer(u.id());
        if (u.len() < HEADER) {
            throw new AssertionError("rx used entry " + u + " shorter than a header");
        }
        Packet p = VirtioVsockHeader.decode(ByteBuffer.wrap(read(gpa, HEADER)).order(ByteOrder.LITTLE_ENDIAN));
        if (Integer.toUnsignedLong(p.len) != u.len() - HEADER) {
            throw new AssertionError("rx header len " + p.len + " in a used entry of " + u.len() + " bytes");
        }
        p.payload = read(gpa + HEADER, p.len);
        return new Received(p, u.len());
    }

    /** The next packet that is not a credit update (the engine may send those at any time). */
    Packet receiveSkippingCredit() throws IOException {
        while (true) {
            Packet p = receive().packet();
            if (p.op != VirtioVsock.OP_CREDIT_UPDATE) {
                return p;
            }
        }
    }

    /** Sends a packet the way Linux lays it out: the header in one buffer, the payload in the next. */
    void send(Packet p) throws IOException {
        tx.publish(txChain(p));
        tx.kick();
    }

    /** Sends raw tx buffers: each {@code parts[i]} in a descriptor of its own, readable. */
    void sendRaw(byte[]... parts) throws IOException {
        tx.publish(txChain(parts));
        tx.kick();
    }

    /** Builds (links, does not publish) a tx chain with each of {@code parts} in a readable descriptor. */
    int txChain(byte[]... parts) {
        int[] descs = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            descs[i] = tx.take();
            write(tx.buffer(descs[i]), parts[i]);
            tx.desc(descs[i], tx.buffer(descs[i]), parts[i].length, 0, 0);
        }
        return tx.link(descs);
    }

    /** Builds (does not publish) the Linux layout of {@code p}: header, then payload if any. */
    int txChain(Packet p) {
        byte[] header = VirtioVsockHeader.encode(p);
        return p.len == 0 ? txChain(header) : txChain(header, p.payloadBytes());
    }

    /** Waits for the tx ring to give back one chain, and returns its used entry. */
    Used awaitTxDone() throws IOException {
        return tx.awaitUsed();
    }

    // ---- packets ----

    Packet packet(int op, int type, int srcPort, int dstPort) {
        Packet p = new Packet();
        p.srcCid = Integer.toUnsignedLong(cid);
        p.dstCid = 2;
        p.srcPort = srcPort;
        p.dstPort = dstPort;
        p.type = type;
        p.op = op;
        p.bufAlloc = 256 * 1024;
        return p;
    }

    Packet data(int type, int srcPort, int dstPort, byte[] payload) {
        Packet p = packet(VirtioVsock.OP_RW, type, srcPort, dstPort);
        p.payload = payload;
        p.len = payload.length;
        return p;
    }
}
