package io.vsock4j.wire;

import io.vsock4j.VsockAddress;

/**
 * One virtio-vsock packet: the fields of the 44-byte header and the payload that follows it.
 *
 * <p>A packet is built by one thread and then handed over whole (to a transport's queue, to the
 * receiving engine); after the hand-over nobody writes to it. Fields are public and plain for the same
 * reason Firecracker's and the kernel's packets are: the engine fills them in one place, the codec reads
 * them in another, and nothing in between needs protecting.
 *
 * <p>The payload is {@code payload[payloadOffset .. payloadOffset + len)}; {@code len} is the header's len
 * field. CIDs are le64 on the wire but 32-bit in every address, so they are kept as longs here and checked
 * where a packet enters from outside ({@link VirtioVsockHeader#validate}).
 */
public final class Packet {
    private static final byte[] NO_PAYLOAD = new byte[0];

    public long srcCid;
    public long dstCid;
    public int srcPort;
    public int dstPort;
    /** Payload length in bytes (le32 len). */
    public int len;
    public int type;
    public int op;
    public int flags;
    /** The sender's receive buffer size in bytes (le32 buf_alloc). */
    public int bufAlloc;
    /** Bytes the sender's reader has consumed, wrapping u32 (le32 fwd_cnt). */
    public int fwdCnt;

    public byte[] payload = NO_PAYLOAD;
    public int payloadOffset;

    /** A header-only packet between two endpoints; credit fields are stamped by the sender. */
    public static Packet control(int type, int op, int flags, VsockAddress src, VsockAddress dst) {
        Packet p = new Packet();
        p.type = type;
        p.op = op;
        p.flags = flags;
        p.srcCid = Integer.toUnsignedLong(src.cid());
        p.srcPort = src.port();
        p.dstCid = Integer.toUnsignedLong(dst.cid());
        p.dstPort = dst.port();
        return p;
    }

    /** The reset that answers {@code cause}: addresses swapped, same type, no credit. */
    public static Packet resetFor(Packet cause) {
        Packet p = new Packet();
        p.type = cause.type;
        p.op = VirtioVsock.OP_RST;
        p.srcCid = cause.dstCid;
        p.srcPort = cause.dstPort;
        p.dstCid = cause.srcCid;
        p.dstPort = cause.srcPort;
        return p;
    }

    public VsockAddress source() {
        return VsockAddress.of((int) srcCid, srcPort);
    }

    public VsockAddress destination() {
        return VsockAddress.of((int) dstCid, dstPort);
    }

    /** A copy of the payload bytes. */
    public byte[] payloadBytes() {
        byte[] copy = new byte[len];
        System.arraycopy(payload, payloadOffset, copy, 0, len);
        return copy;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(96)
                .append(VirtioVsock.opName(op))
                .append(' ').append(Long.toUnsignedString(srcCid)).append(':').append(Integer.toUnsignedString(srcPort))
                .append(" -> ").append(Long.toUnsignedString(dstCid)).append(':').append(Integer.toUnsignedString(dstPort))
                .append(type == VirtioVsock.TYPE_SEQPACKET ? " seqpacket" : type == VirtioVsock.TYPE_STREAM ? " stream" : " type" + type);
        if (len != 0) {
            s.append(" len=").append(Integer.toUnsignedString(len));
        }
        if (flags != 0) {
            s.append(" flags=").append(flags);
        }
        return s.append(" buf_alloc=").append(Integer.toUnsignedString(bufAlloc))
                .append(" fwd_cnt=").append(Integer.toUnsignedString(fwdCnt)).toString();
    }
}
