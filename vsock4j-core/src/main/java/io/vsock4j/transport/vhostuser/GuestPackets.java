package io.vsock4j.transport.vhostuser;

import io.vsock4j.virtqueue.DescriptorChain;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.PayloadPool;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.wire.VirtioVsockHeader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;

/**
 * Packets in and out of a guest's buffers, the vsock device's codec between virtqueue chains and
 * {@link Packet}s.
 *
 * <p><b>tx</b> (guest to host): the driver's chain is device-readable only and holds a 44-byte
 * {@code virtio_vsock_hdr} followed by exactly {@code len} payload bytes, split over its buffers any way
 * the driver likes (Linux puts the header in one buffer and the payload in the next). A chain that is
 * shorter than a header, carries writable buffers, disagrees with its own {@code len}, or fails
 * {@link VirtioVsockHeader#validate} is refused: {@link #read} returns null and {@link #refusal} says why.
 * The guest is not trusted, so the header is copied out of shared memory once and only the copy is read.
 *
 * <p><b>rx</b> (host to guest): the driver posts device-writable buffers, in Linux 4 KiB each. A packet
 * whose payload does not fit one chain goes out in pieces, each with its own header and {@code len},
 * and for SEQPACKET the EOM/EOR flags only on the last piece, as vhost_transport_do_send_pkt does, so
 * the guest sees one message. {@link #fill} also does what vhost does not: when a STREAM packet's
 * payload ends inside a chain, the rest of the chain takes the next queued packets of the same
 * connection's stream, under one header. A stream has no boundaries to keep, and the guest pays per
 * packet far more than per byte (docs/benchmarks.md, the device): the engine cuts a 64 KiB write
 * wherever credit fell, so without this a 64 KiB write reached a Linux guest as 18 packets, not 16.
 * A capture on the host (which taps the engine's packets) shows the packets before they were joined.
 *
 * <p>Thread: one, the device's ring thread; the scratch header is reused.
 */
final class GuestPackets {
    private static final int HEADER = VirtioVsock.HEADER_SIZE_BYTES;
    private final byte[] header = new byte[HEADER];
    private final ByteBuffer headerBuffer = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
    private String refusal;
    private int nextOffset;

    /** Why the last {@link #read} returned null. */
    String refusal() {
        return refusal;
    }

    /** The packet in {@code chain}'s readable buffers, or null if the chain is refused. */
    Packet read(DescriptorChain chain) {
        if (chain.writableCount() != 0) {
            return refuse("a tx chain with " + chain.writableCount() + " device-writable buffers");
        }
        long bytes = chain.readableBytes();
        if (bytes < HEADER) {
            return refuse("a tx chain of " + bytes + " bytes, shorter than the header");
        }
        copyOut(chain, 0, header, 0, HEADER);
        Packet p = VirtioVsockHeader.decode(headerBuffer.clear());
        String invalid = VirtioVsockHeader.validate(p);
        if (invalid != null) {
            return refuse(invalid);
        }
        if (bytes - HEADER != Integer.toUnsignedLong(p.len)) {
            return refuse("header len " + Integer.toUnsignedString(p.len) + " but " + (bytes - HEADER) + " payload bytes in the chain");
        }
        if (p.len > 0) {
            p.payload = PayloadPool.take(p.len); // a full-size one goes back when the packet is done with
            copyOut(chain, HEADER, p.payload, 0, p.len);
        }
        return p;
    }

    /**
     * Fills one rx chain from the head of {@code pending}: the head's payload from byte {@code from} on,
     * as much as fits, and then, while room is left and the head was a STREAM RW written to its end, the
     * payloads of the packets behind it that carry the same connection's stream ({@link #continues}),
     * all under one header: the addresses of the first, the credit fields (buf_alloc, fwd_cnt) of the
     * last, which are the newest, and len the bytes written. Packets written to their end are removed
     * from {@code pending}, and their payload arrays go back to the {@link PayloadPool}; {@link #nextOffset}
     * is where the next chain starts in the new head. Returns the bytes written into the chain, header
     * included, or -1 when the chain cannot hold even a header (nothing written, nothing removed).
     */
    int fill(ArrayDeque<Packet> pending, int from, DescriptorChain chain) {
        long room = chain.writableBytes() - HEADER;
        if (chain.readableCount() != 0 || room < 0) {
            return -1;
        }
        Packet first = pending.peek();
        Packet p = first;
        int offset = from;
        int payload = 0;
        boolean pGoesOn;
        while (true) {
            int piece = (int) Math.min(p.len - offset, room - payload);
            if (piece > 0) {
                copyIn(chain, HEADER + payload, p.payload, p.payloadOffset + offset, piece);
            }
            payload += piece;
            offset += piece;
            pGoesOn = offset < p.len;
            if (pGoesOn) {
                break; // in the next chain
            }
            pending.poll();
            PayloadPool.give(p.payload); // written out whole: the device held the packet last
            offset = 0;
            Packet next = pending.peek();
            if (payload == room || next == null || !continues(first, next)) {
                break;
            }
            p = next;
        }
        nextOffset = offset;
        VirtioVsockHeader.encode(p, headerBuffer.clear());
        headerBuffer.putInt(VirtioVsockHeader.OFFSET_LEN, payload);
        if (pGoesOn && p.type == VirtioVsock.TYPE_SEQPACKET) {
            headerBuffer.putInt(VirtioVsockHeader.OFFSET_FLAGS, p.flags & ~(VirtioVsock.SEQ_EOM | VirtioVsock.SEQ_EOR));
        }
        copyIn(chain, 0, header, 0, HEADER);
        return HEADER + payload;
    }

    /** After {@link #fill}: the offset in the head of the queue at which the next chain starts. */
    int nextOffset() {
        return nextOffset;
    }

    /**
     * Whether {@code next}'s payload may follow {@code first}'s under one header: both STREAM RW with
     * payload, between the same two addresses. SEQPACKET never: its packets carry message boundaries.
     */
    static boolean continues(Packet first, Packet next) {
        return first.type == VirtioVsock.TYPE_STREAM && next.type == VirtioVsock.TYPE_STREAM
                && first.op == VirtioVsock.OP_RW && next.op == VirtioVsock.OP_RW
                && first.len > 0 && next.len > 0
                && first.srcCid == next.srcCid && first.srcPort == next.srcPort
                && first.dstCid == next.dstCid && first.dstPort == next.dstPort
                && first.flags == 0 && next.flags == 0;
    }

    private Packet refuse(String why) {
        refusal = why;
        return null;
    }

    /** Copies {@code len} bytes from the chain's readable bytes at {@code at} into {@code dst}. */
    private static void copyOut(DescriptorChain chain, long at, byte[] dst, int off, int len) {
        for (int i = 0; i < chain.readableCount() && len > 0; i++) {
            MemorySegment buffer = chain.readable(i);
            if (at >= buffer.byteSize()) {
                at -= buffer.byteSize();
                continue;
            }
            int n = (int) Math.min(len, buffer.byteSize() - at);
            MemorySegment.copy(buffer, ValueLayout.JAVA_BYTE, at, dst, off, n);
            at = 0;
            off += n;
            len -= n;
        }
    }

    /** Copies {@code len} bytes of {@code src} into the chain's writable bytes at {@code at}. */
    private static void copyIn(DescriptorChain chain, long at, byte[] src, int off, int len) {
        for (int i = 0; i < chain.writableCount() && len > 0; i++) {
            MemorySegment buffer = chain.writable(i);
            if (at >= buffer.byteSize()) {
                at -= buffer.byteSize();
                continue;
            }
            int n = (int) Math.min(len, buffer.byteSize() - at);
            MemorySegment.copy(src, off, buffer, ValueLayout.JAVA_BYTE, at, n);
            at = 0;
            off += n;
            len -= n;
        }
    }
}
