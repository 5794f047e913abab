package io.vsock4j.transport.vhostuser;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The device config space payload of GET_CONFIG and SET_CONFIG: le32 offset into the virtio config
 * space, le32 size, le32 flags (0: a writable field, 1: live migration), then {@code size} bytes (the
 * frontend sends zeros with GET_CONFIG; the reply carries the contents). Immutable; the array is not
 * copied, so neither side changes it after construction.
 */
record ConfigSpace(int offset, int size, int flags, byte[] bytes) {
    static final int HEADER_BYTES = 12;
    /** flags value: the frontend writes config space during live migration. */
    static final int FLAG_MIGRATION = 1;

    static ConfigSpace decode(ByteBuffer le) {
        int size = le.getInt(4);
        byte[] bytes = new byte[size];
        le.get(HEADER_BYTES, bytes);
        return new ConfigSpace(le.getInt(0), size, le.getInt(8), bytes);
    }

    byte[] encode() {
        return ByteBuffer.allocate(HEADER_BYTES + bytes.length).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(offset).putInt(bytes.length).putInt(flags).put(bytes).array();
    }
}
