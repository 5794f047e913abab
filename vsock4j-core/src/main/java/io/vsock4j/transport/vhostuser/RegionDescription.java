package io.vsock4j.transport.vhostuser;

import java.nio.ByteBuffer;

/**
 * One entry of SET_MEM_TABLE: a range of guest physical memory ({@code guestPhysAddr}, {@code size}
 * bytes), where the frontend has it mapped ({@code userAddr}, the address ring addresses refer to), and
 * where it starts in the descriptor sent with it ({@code mmapOffset}). Four le64; immutable.
 */
record RegionDescription(long guestPhysAddr, long size, long userAddr, long mmapOffset) {
    static final int BYTES = 32;

    static RegionDescription decode(ByteBuffer le, int at) {
        return new RegionDescription(le.getLong(at), le.getLong(at + 8), le.getLong(at + 16), le.getLong(at + 24));
    }

    void encode(ByteBuffer le) {
        le.putLong(guestPhysAddr).putLong(size).putLong(userAddr).putLong(mmapOffset);
    }
}
