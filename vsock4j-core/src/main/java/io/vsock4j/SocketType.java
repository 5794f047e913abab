package io.vsock4j;

/**
 * The connection-oriented socket types of AF_VSOCK, with the values virtio-vsock carries in its header
 * (VIRTIO_VSOCK_TYPE_STREAM and VIRTIO_VSOCK_TYPE_SEQPACKET in include/uapi/linux/virtio_vsock.h).
 */
public enum SocketType {
    /** A reliable byte stream, like TCP (SOCK_STREAM). */
    STREAM(1),
    /** Reliable, ordered messages whose boundaries survive (SOCK_SEQPACKET). */
    SEQPACKET(2);

    private final int virtioType;

    SocketType(int virtioType) {
        this.virtioType = virtioType;
    }

    /** The type field value in a virtio-vsock header. */
    public int virtioType() {
        return virtioType;
    }

    /** The type for a header's type field, or null for an unknown one. */
    public static SocketType fromVirtio(int type) {
        return switch (type) {
            case 1 -> STREAM;
            case 2 -> SEQPACKET;
            default -> null;
        };
    }
}
