package io.vsock4j.transport.vhostuser;

/**
 * The frontend's requests (docs/interop/vhost-user.rst, "Front-end message types"; the codes of QEMU's
 * hw/virtio/vhost-user.c), each with the payload it carries and the descriptors that travel with it.
 * Requests this backend does not serve are listed too, so a log line names them; their payload kind is
 * {@link PayloadKind#UNSUPPORTED}. A code not listed here is an unknown request. Immutable; any thread.
 */
enum VhostUserRequest {
    GET_FEATURES(1, PayloadKind.NONE, Fds.NONE, true),
    SET_FEATURES(2, PayloadKind.U64, Fds.NONE, false),
    SET_OWNER(3, PayloadKind.NONE, Fds.NONE, false),
    RESET_OWNER(4, PayloadKind.NONE, Fds.NONE, false),
    SET_MEM_TABLE(5, PayloadKind.MEMORY_TABLE, Fds.ONE_PER_REGION, false),
    SET_LOG_BASE(6, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    SET_LOG_FD(7, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    SET_VRING_NUM(8, PayloadKind.VRING_STATE, Fds.NONE, false),
    SET_VRING_ADDR(9, PayloadKind.VRING_ADDRESS, Fds.NONE, false),
    SET_VRING_BASE(10, PayloadKind.VRING_STATE, Fds.NONE, false),
    GET_VRING_BASE(11, PayloadKind.VRING_STATE, Fds.NONE, true),
    SET_VRING_KICK(12, PayloadKind.U64, Fds.ONE_UNLESS_NOFD, false),
    SET_VRING_CALL(13, PayloadKind.U64, Fds.ONE_UNLESS_NOFD, false),
    SET_VRING_ERR(14, PayloadKind.U64, Fds.ONE_UNLESS_NOFD, false),
    GET_PROTOCOL_FEATURES(15, PayloadKind.NONE, Fds.NONE, true),
    SET_PROTOCOL_FEATURES(16, PayloadKind.U64, Fds.NONE, false),
    GET_QUEUE_NUM(17, PayloadKind.NONE, Fds.NONE, true),
    SET_VRING_ENABLE(18, PayloadKind.VRING_STATE, Fds.NONE, false),
    SEND_RARP(19, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    NET_SET_MTU(20, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    SET_BACKEND_REQ_FD(21, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    IOTLB_MSG(22, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    SET_VRING_ENDIAN(23, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    GET_CONFIG(24, PayloadKind.CONFIG, Fds.NONE, true),
    SET_CONFIG(25, PayloadKind.CONFIG, Fds.NONE, false),
    CREATE_CRYPTO_SESSION(26, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    CLOSE_CRYPTO_SESSION(27, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    POSTCOPY_ADVISE(28, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    POSTCOPY_LISTEN(29, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    POSTCOPY_END(30, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    GET_INFLIGHT_FD(31, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    SET_INFLIGHT_FD(32, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    GPU_SET_SOCKET(33, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    RESET_DEVICE(34, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    VRING_KICK(35, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    GET_MAX_MEM_SLOTS(36, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    ADD_MEM_REG(37, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    REM_MEM_REG(38, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    SET_STATUS(39, PayloadKind.UNSUPPORTED, Fds.ANY, false),
    GET_STATUS(40, PayloadKind.UNSUPPORTED, Fds.ANY, false);

    /** How many descriptors a well-formed request carries. */
    enum Fds {
        /** None. */
        NONE,
        /** One, unless bit 8 of the u64 payload (no-fd) is set; then none. */
        ONE_UNLESS_NOFD,
        /** Exactly one per memory region, in the table's order. */
        ONE_PER_REGION,
        /** Not checked: the request is refused whatever it carries. */
        ANY
    }

    private static final VhostUserRequest[] BY_CODE = new VhostUserRequest[GET_STATUS.code + 1];

    static {
        for (VhostUserRequest r : values()) {
            BY_CODE[r.code] = r;
        }
    }

    final int code;
    final PayloadKind payload;
    final Fds fds;
    /** The request always has a reply body (the "Communication" list, plus GET_QUEUE_NUM and GET_CONFIG). */
    final boolean hasReply;

    VhostUserRequest(int code, PayloadKind payload, Fds fds, boolean hasReply) {
        this.code = code;
        this.payload = payload;
        this.fds = fds;
        this.hasReply = hasReply;
    }

    /** The request with this code, or null when the code is unknown. */
    static VhostUserRequest of(int code) {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** "VHOST_USER_" and the name, as the spec and QEMU's error messages spell it. */
    String specName() {
        return "VHOST_USER_" + name();
    }
}
