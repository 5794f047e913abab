package io.vsock4j.transport.vhostuser;

import java.lang.foreign.MemorySegment;

/**
 * One region of guest memory as the backend mapped it: guest physical addresses
 * [{@code guestPhysAddr}, {@code guestPhysAddr + size}) are the frontend's user addresses
 * [{@code userAddr}, {@code userAddr + size}) and the bytes of {@code mapping} (exactly {@code size}
 * long). Ring addresses from the frontend ({@link VringSetup}) are user addresses; descriptor addresses
 * written by the guest are guest physical addresses.
 *
 * <p>The mapping is shared memory: the guest and QEMU change it under the device's feet, so read each
 * value once and check it. It belongs to a shared arena the backend closes when the table is replaced
 * or the frontend leaves; after that, an access throws IllegalStateException rather than reaching
 * unmapped memory. Immutable; any thread.
 */
public record MappedRegion(long guestPhysAddr, long size, long userAddr, MemorySegment mapping) {
}
