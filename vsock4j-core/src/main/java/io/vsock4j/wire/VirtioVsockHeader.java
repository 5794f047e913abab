package io.vsock4j.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes and decodes {@code struct virtio_vsock_hdr}, the 44-byte header in front of every
 * virtio-vsock packet. Stateless; any thread.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------------------------------------------------------+
 * |                       src_cid (le64)                          |  0
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                       dst_cid (le64)                          |  8
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                       src_port (le32)                         | 16
 * +---------------------------------------------------------------+
 * |                       dst_port (le32)                         | 20
 * +---------------------------------------------------------------+
 * |                       len (le32): payload bytes               | 24
 * +-------------------------------+-------------------------------+
 * |   type (le16): 1 STREAM,      |   op (le16): REQUEST..        | 28
 * |               2 SEQPACKET     |        CREDIT_REQUEST         |
 * +-------------------------------+-------------------------------+
 * |   flags (le32): SHUTDOWN_RCV|SEND, or SEQ_EOM|SEQ_EOR on RW   | 32
 * +---------------------------------------------------------------+
 * |   buf_alloc (le32): sender's receive buffer, bytes            | 36
 * +---------------------------------------------------------------+
 * |   fwd_cnt (le32): bytes the sender's reader consumed (wraps)  | 40
 * +---------------------------------------------------------------+
 * </pre>
 */
public final class VirtioVsockHeader {
    public static final int OFFSET_SRC_CID = 0;
    public static final int OFFSET_DST_CID = 8;
    public static final int OFFSET_SRC_PORT = 16;
    public static final int OFFSET_DST_PORT = 20;
    public static final int OFFSET_LEN = 24;
    public static final int OFFSET_TYPE = 28;
    public static final int OFFSET_OP = 30;
    public static final int OFFSET_FLAGS = 32;
    public static final int OFFSET_BUF_ALLOC = 36;
    public static final int OFFSET_FWD_CNT = 40;

    private VirtioVsockHeader() {
    }

    /**
     * Writes the header of {@code p} at {@code dst}'s position (advancing it by 44 bytes).
     *
     * @throws java.nio.BufferOverflowException if fewer than 44 bytes remain
     */
    public static void encode(Packet p, ByteBuffer dst) {
        ByteBuffer b = dst.slice().order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(OFFSET_SRC_CID, p.srcCid);
        b.putLong(OFFSET_DST_CID, p.dstCid);
        b.putInt(OFFSET_SRC_PORT, p.srcPort);
        b.putInt(OFFSET_DST_PORT, p.dstPort);
        b.putInt(OFFSET_LEN, p.len);
        b.putShort(OFFSET_TYPE, (short) p.type);
        b.putShort(OFFSET_OP, (short) p.op);
        b.putInt(OFFSET_FLAGS, p.flags);
        b.putInt(OFFSET_BUF_ALLOC, p.bufAlloc);
        b.putInt(OFFSET_FWD_CNT, p.fwdCnt);
        dst.position(dst.position() + VirtioVsock.HEADER_SIZE_BYTES);
    }

    /** The header of {@code p} as a new 44-byte array. */
    public static byte[] encode(Packet p) {
        byte[] out = new byte[VirtioVsock.HEADER_SIZE_BYTES];
        encode(p, ByteBuffer.wrap(out));
        return out;
    }

    /**
     * Reads a header at {@code src}'s position (advancing it by 44 bytes) into a new packet with no payload.
     * Any bit pattern decodes; whether it makes sense is {@link #validate}'s question.
     *
     * @throws java.nio.BufferUnderflowException if fewer than 44 bytes remain
     */
    public static Packet decode(ByteBuffer src) {
        if (src.remaining() < VirtioVsock.HEADER_SIZE_BYTES) {
            throw new java.nio.BufferUnderflowException();
        }
        ByteBuffer b = src.slice().order(ByteOrder.LITTLE_ENDIAN);
        Packet p = new Packet();
        p.srcCid = b.getLong(OFFSET_SRC_CID);
        p.dstCid = b.getLong(OFFSET_DST_CID);
        p.srcPort = b.getInt(OFFSET_SRC_PORT);
        p.dstPort = b.getInt(OFFSET_DST_PORT);
        p.len = b.getInt(OFFSET_LEN);
        p.type = Short.toUnsignedInt(b.getShort(OFFSET_TYPE));
        p.op = Short.toUnsignedInt(b.getShort(OFFSET_OP));
        p.flags = b.getInt(OFFSET_FLAGS);
        p.bufAlloc = b.getInt(OFFSET_BUF_ALLOC);
        p.fwdCnt = b.getInt(OFFSET_FWD_CNT);
        src.position(src.position() + VirtioVsock.HEADER_SIZE_BYTES);
        return p;
    }

    /**
     * Why a header from an untrusted peer cannot be processed, or null when it can. Checks what the
     * engine relies on: CIDs fit 32 bits, the payload fits one packet, and only RW carries a payload.
     * Unknown ops and types are not rejected here: the kernel answers those with a reset, and so does
     * the engine.
     */
    public static String validate(Packet p) {
        if ((p.srcCid >>> 32) != 0 || (p.dstCid >>> 32) != 0) {
            return "CID above 32 bits";
        }
        if (Integer.compareUnsigned(p.len, VirtioVsock.MAX_PACKET_PAYLOAD_BYTES) > 0) {
            return "len " + Integer.toUnsignedString(p.len) + " above " + VirtioVsock.MAX_PACKET_PAYLOAD_BYTES;
        }
        if (p.len != 0 && p.op != VirtioVsock.OP_RW) {
            return VirtioVsock.opName(p.op) + " with a payload";
        }
        return null;
    }
}
