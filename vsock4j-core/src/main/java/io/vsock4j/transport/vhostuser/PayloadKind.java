package io.vsock4j.transport.vhostuser;

/**
 * The shapes a vhost-user request's payload takes (docs/interop/vhost-user.rst, "Payload"), each with
 * the sizes a well-formed one may have. Immutable; any thread.
 *
 * <ul>
 *   <li>{@link #NONE}: no payload.</li>
 *   <li>{@link #U64}: one le64 (features, or a ring index with the no-fd flag).</li>
 *   <li>{@link #VRING_STATE}: le32 index, le32 num.</li>
 *   <li>{@link #VRING_ADDRESS}: le32 index, le32 flags, le64 desc, used, avail user addresses, le64 log.</li>
 *   <li>{@link #MEMORY_TABLE}: le32 nregions, le32 padding, then nregions entries of four le64 (at most 8).</li>
 *   <li>{@link #CONFIG}: le32 offset, le32 size, le32 flags, then size bytes (at most 256).</li>
 *   <li>{@link #UNSUPPORTED}: a request this backend never negotiates; only the absolute limit applies.</li>
 * </ul>
 */
enum PayloadKind {
    NONE(0, 0),
    U64(8, 8),
    VRING_STATE(8, 8),
    VRING_ADDRESS(40, 40),
    MEMORY_TABLE(VhostUserMessage.MEMORY_TABLE_HEADER_BYTES,
            VhostUserMessage.MEMORY_TABLE_HEADER_BYTES + VhostUserMessage.MAX_REGIONS * VhostUserMessage.REGION_BYTES),
    CONFIG(VhostUserMessage.CONFIG_HEADER_BYTES, VhostUserMessage.CONFIG_HEADER_BYTES + VhostUserMessage.MAX_CONFIG_BYTES),
    UNSUPPORTED(0, VhostUserMessage.MAX_PAYLOAD_BYTES);

    final int minBytes;
    final int maxBytes;

    PayloadKind(int minBytes, int maxBytes) {
        this.minBytes = minBytes;
        this.maxBytes = maxBytes;
    }
}
