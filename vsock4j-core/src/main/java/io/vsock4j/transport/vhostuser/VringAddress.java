package io.vsock4j.transport.vhostuser;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The vring address payload (struct vhost_vring_addr): le32 index, le32 flags (bit 0: VHOST_VRING_F_LOG),
 * then le64 user addresses of the descriptor table, the used ring and the available ring (in the
 * frontend's address space, translated through the memory table), and le64 log, the guest address the
 * used ring's dirty log starts at. Immutable.
 */
record VringAddress(int index, int flags, long descUserAddr, long usedUserAddr, long availUserAddr, long logGuestAddr) {
    static final int BYTES = 40;

    static VringAddress decode(ByteBuffer le) {
        return new VringAddress(le.getInt(0), le.getInt(4), le.getLong(8), le.getLong(16), le.getLong(24), le.getLong(32));
    }

    byte[] encode() {
        return ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(index).putInt(flags)
                .putLong(descUserAddr).putLong(usedUserAddr).putLong(availUserAddr).putLong(logGuestAddr).array();
    }
}
