package io.vsock4j.transport.vhostuser;

/**
 * The feature bits vhost-user adds to virtio's (docs/interop/vhost-user.rst, "Protocol features"), and
 * the protocol features this backend offers. Only constants; no thread concerns.
 *
 * <p>Two negotiations run on one connection. The virtio feature word (GET_FEATURES / SET_FEATURES) is
 * the device's bits plus {@link #F_PROTOCOL_FEATURES}, bit 30, which virtio itself leaves unused; with it
 * offered, a second word of protocol features (GET_PROTOCOL_FEATURES / SET_PROTOCOL_FEATURES) switches on
 * extensions of vhost-user itself. This backend offers MQ (GET_QUEUE_NUM), REPLY_ACK (the need_reply
 * flag) and CONFIG (GET_CONFIG / SET_CONFIG), and nothing that needs shared log memory, inflight
 * tracking, a backend-to-frontend channel or memory slots.
 */
final class VhostUserFeatures {
    private VhostUserFeatures() {
    }

    /** VHOST_USER_F_PROTOCOL_FEATURES: the virtio feature bit that unlocks protocol features. */
    static final long F_PROTOCOL_FEATURES = 1L << 30;

    // VHOST_USER_PROTOCOL_F_* bit numbers
    static final int PROTOCOL_F_MQ = 0;
    static final int PROTOCOL_F_LOG_SHMFD = 1;
    static final int PROTOCOL_F_REPLY_ACK = 3;
    static final int PROTOCOL_F_CONFIG = 9;
    static final int PROTOCOL_F_INFLIGHT_SHMFD = 12;
    static final int PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15;

    /** The protocol features this backend offers: MQ, REPLY_ACK, CONFIG. */
    static final long OFFERED_PROTOCOL = (1L << PROTOCOL_F_MQ) | (1L << PROTOCOL_F_REPLY_ACK) | (1L << PROTOCOL_F_CONFIG);

    static boolean has(long features, int bit) {
        return (features & (1L << bit)) != 0;
    }
}
