package io.vsock4j.wire;

/**
 * The constants of the virtio-vsock wire protocol, mirrored from include/uapi/linux/virtio_vsock.h and
 * net/vmw_vsock/virtio_transport_common.c. Names follow the header so a reader can grep both.
 */
public final class VirtioVsock {
    private VirtioVsock() {
    }

    /** sizeof(struct virtio_vsock_hdr): the header is packed and little-endian. */
    public static final int HEADER_SIZE_BYTES = 44;

    /** VIRTIO_VSOCK_MAX_PKT_BUF_SIZE: the largest payload one packet carries. */
    public static final int MAX_PACKET_PAYLOAD_BYTES = 64 * 1024;

    /** VIRTIO_VSOCK_MAX_BUF_SIZE: buf_alloc is a u32, so no buffer may be larger. */
    public static final long MAX_BUF_SIZE_BYTES = 0xFFFF_FFFFL;

    /**
     * VSOCK_CLOSE_TIMEOUT (net/vmw_vsock/virtio_transport_common.c, 8 s): how long a closed socket waits for
     * its peer to finish, and so how long vsock4j's transports give what a closing side still queued.
     */
    public static final long CLOSE_TIMEOUT_NANOS = 8_000_000_000L;

    /** GOOD_COPY_LEN: received payloads up to this size are copied into the previous chunk's room. */
    public static final int GOOD_COPY_LEN_BYTES = 128;

    // op (le16)
    public static final int OP_INVALID = 0;
    public static final int OP_REQUEST = 1;
    public static final int OP_RESPONSE = 2;
    public static final int OP_RST = 3;
    public static final int OP_SHUTDOWN = 4;
    public static final int OP_RW = 5;
    public static final int OP_CREDIT_UPDATE = 6;
    public static final int OP_CREDIT_REQUEST = 7;

    /**
     * VIRTIO_VSOCK_EVENT_TRANSPORT_RESET, the one event id (virtio spec 5.10.6.6, struct virtio_vsock_event: a
     * le32 id, 4 bytes in the event queue's buffer): the driver resets every connection and re-reads the CID.
     */
    public static final int EVENT_TRANSPORT_RESET = 0;
    public static final int EVENT_SIZE_BYTES = 4;

    // type (le16)
    public static final int TYPE_STREAM = 1;
    public static final int TYPE_SEQPACKET = 2;

    // flags of OP_SHUTDOWN
    /** VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE: the sender will receive no more data. */
    public static final int SHUTDOWN_RCV = 1;
    /** VIRTIO_VSOCK_SHUTDOWN_F_SEND: the sender will send no more data. */
    public static final int SHUTDOWN_SEND = 2;
    public static final int SHUTDOWN_BOTH = SHUTDOWN_RCV | SHUTDOWN_SEND;

    // flags of OP_RW on SEQPACKET
    /** VIRTIO_VSOCK_SEQ_EOM: this packet ends a message. */
    public static final int SEQ_EOM = 1;
    /** VIRTIO_VSOCK_SEQ_EOR: the message was sent with MSG_EOR. */
    public static final int SEQ_EOR = 2;

    // feature bits
    public static final int F_STREAM = 0;
    public static final int F_SEQPACKET = 1;
    public static final int F_NO_IMPLIED_STREAM = 2;

    /** The name of an op, for logs and messages. */
    public static String opName(int op) {
        return switch (op) {
            case OP_INVALID -> "INVALID";
            case OP_REQUEST -> "REQUEST";
            case OP_RESPONSE -> "RESPONSE";
            case OP_RST -> "RST";
            case OP_SHUTDOWN -> "SHUTDOWN";
            case OP_RW -> "RW";
            case OP_CREDIT_UPDATE -> "CREDIT_UPDATE";
            case OP_CREDIT_REQUEST -> "CREDIT_REQUEST";
            default -> "op" + op;
        };
    }
}
