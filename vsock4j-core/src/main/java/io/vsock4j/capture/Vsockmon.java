package io.vsock4j.capture;

import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The vsockmon header, {@code struct af_vsockmon_hdr} of include/uapi/linux/vsockmon.h: what Linux's
 * vsockmon capture device puts in front of every vsock packet it shows, and so what pcap link type
 * LINKTYPE_VSOCK (271) carries. Stateless; any thread.
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
 * +-------------------------------+-------------------------------+
 * |  op (le16): CONNECT, DISCONNECT,  transport (le16): VIRTIO    | 24
 * |             CONTROL, PAYLOAD  |                               |
 * +-------------------------------+-------------------------------+
 * |  len (le16): transport header |  reserved[2], zero            | 28
 * |  bytes that follow (44)       |                               |
 * +-------------------------------+-------------------------------+
 *    then the transport header (struct virtio_vsock_hdr), then the payload
 * </pre>
 *
 * <p>The kernel fills it in virtio_transport_build_skb (net/vmw_vsock/virtio_transport_common.c):
 * addresses copied from the virtio header, transport VIRTIO, len 44, and the op folded into a class
 * by {@link #opClass}.
 */
public final class Vsockmon {
    private Vsockmon() {
    }

    /** sizeof(struct af_vsockmon_hdr). */
    public static final int HEADER_SIZE_BYTES = 32;

    /** LINKTYPE_VSOCK in pcap's link-type registry (tcpdump's DLT_VSOCK). */
    public static final int LINKTYPE_VSOCK = 271;

    // enum af_vsockmon_op
    public static final int OP_UNKNOWN = 0;
    public static final int OP_CONNECT = 1;
    public static final int OP_DISCONNECT = 2;
    public static final int OP_CONTROL = 3;
    public static final int OP_PAYLOAD = 4;

    // enum af_vsockmon_transport
    public static final int TRANSPORT_UNKNOWN = 0;
    public static final int TRANSPORT_NO_INFO = 1;
    public static final int TRANSPORT_VIRTIO = 2;

    public static final int OFFSET_SRC_CID = 0;
    public static final int OFFSET_DST_CID = 8;
    public static final int OFFSET_SRC_PORT = 16;
    public static final int OFFSET_DST_PORT = 20;
    public static final int OFFSET_OP = 24;
    public static final int OFFSET_TRANSPORT = 26;
    public static final int OFFSET_LEN = 28;

    /** The af_vsockmon_op class of a virtio op, as virtio_transport_build_skb maps it. */
    public static int opClass(int virtioOp) {
        return switch (virtioOp) {
            case VirtioVsock.OP_REQUEST, VirtioVsock.OP_RESPONSE -> OP_CONNECT;
            case VirtioVsock.OP_RST, VirtioVsock.OP_SHUTDOWN -> OP_DISCONNECT;
            case VirtioVsock.OP_RW -> OP_PAYLOAD;
            case VirtioVsock.OP_CREDIT_UPDATE, VirtioVsock.OP_CREDIT_REQUEST -> OP_CONTROL;
            default -> OP_UNKNOWN;
        };
    }

    /** Writes the vsockmon header for {@code p} at {@code dst}'s position, advancing it by 32 bytes. */
    public static void encode(Packet p, ByteBuffer dst) {
        ByteBuffer b = dst.slice().order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(OFFSET_SRC_CID, p.srcCid);
        b.putLong(OFFSET_DST_CID, p.dstCid);
        b.putInt(OFFSET_SRC_PORT, p.srcPort);
        b.putInt(OFFSET_DST_PORT, p.dstPort);
        b.putShort(OFFSET_OP, (short) opClass(p.op));
        b.putShort(OFFSET_TRANSPORT, (short) TRANSPORT_VIRTIO);
        b.putShort(OFFSET_LEN, (short) VirtioVsock.HEADER_SIZE_BYTES);
        b.putShort(OFFSET_LEN + 2, (short) 0);
        dst.position(dst.position() + HEADER_SIZE_BYTES);
    }
}
