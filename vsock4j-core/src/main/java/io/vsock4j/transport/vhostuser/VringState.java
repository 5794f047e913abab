package io.vsock4j.transport.vhostuser;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The vring state payload: le32 index, le32 num. Its num is the ring size (SET_VRING_NUM), the next
 * available index (SET_VRING_BASE, GET_VRING_BASE's reply) or 1/0 to enable or disable
 * (SET_VRING_ENABLE). Immutable.
 */
record VringState(int index, int num) {
    static final int BYTES = 8;

    static VringState decode(ByteBuffer le) {
        return new VringState(le.getInt(0), le.getInt(4));
    }

    byte[] encode() {
        return ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(index).putInt(num).array();
    }
}
