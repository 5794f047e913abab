package io.vsock4j.transport.vhostuser;

import io.vsock4j.internal.ffm.NativeErrors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A test frontend's guest RAM, made as QEMU's memory-backend-memfd makes it: one memfd, mapped shared in
 * this process, described to the backend as two regions so the second has a non-zero mmap_offset (as
 * QEMU's RAM above 4 GiB has). Owned by the test thread.
 */
final class GuestRam implements AutoCloseable {
    /**
     * Bytes per region; a multiple of the page size, as mmap offsets must be. 4 MiB: room for the 8 KiB tx
     * buffers of a 512-entry tx ring in high RAM ({@link TestFrontend#connect(java.nio.file.Path, int, int)}).
     */
    static final long REGION_BYTES = 4 << 20;
    /** Guest physical address of the second region: above 4 GiB, like QEMU's high RAM. */
    static final long HIGH_GUEST_PHYS_ADDR = 1L << 32;

    final int memfd;
    final MemorySegment mapping;
    private final Arena arena;

    GuestRam() throws IOException {
        memfd = (int) NativeErrors.check(UnixNative.memfdCreate("vsock4j-test-guest-ram"), "memfd_create");
        long size = 2 * REGION_BYTES;
        NativeErrors.check(UnixNative.ftruncate(memfd, size), "ftruncate");
        long address = NativeErrors.check(UnixNative.mmapShared(memfd, size, 0), "mmap");
        arena = Arena.ofShared();
        mapping = MemorySegment.ofAddress(address).reinterpret(size, arena, s -> UnixNative.munmap(s.address(), size));
    }

    /** The table as QEMU would send it: low RAM at guest address 0, high RAM at 4 GiB, both in this memfd. */
    List<RegionDescription> table() {
        long user = mapping.address();
        return List.of(new RegionDescription(0, REGION_BYTES, user, 0),
                new RegionDescription(HIGH_GUEST_PHYS_ADDR, REGION_BYTES, user + REGION_BYTES, REGION_BYTES));
    }

    /** The frontend's user address of memfd offset {@code offset}. */
    long userAddr(long offset) {
        return mapping.address() + offset;
    }

    @Override
    public void close() {
        arena.close();
        UnixNative.close(memfd);
    }
}
