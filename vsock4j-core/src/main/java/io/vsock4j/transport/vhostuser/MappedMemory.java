package io.vsock4j.transport.vhostuser;

import io.vsock4j.internal.ffm.NativeErrors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One SET_MEM_TABLE's regions, mapped into this process: each region's descriptor is mmap'ed
 * MAP_SHARED, read and write, at its mmap_offset, so the backend sees the very pages the guest does.
 * The mappings belong to one shared arena; {@link #close} closes it, which invalidates every segment
 * (a late access throws instead of touching unmapped memory) and then munmaps each region.
 *
 * <p>Thread-safety: mapped and closed on the backend's thread; the segments may be read from any.
 */
final class MappedMemory implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MappedMemory.class.getName());

    private final Arena arena;
    private final List<MappedRegion> regions;

    private MappedMemory(Arena arena, List<MappedRegion> regions) {
        this.arena = arena;
        this.regions = List.copyOf(regions);
    }

    /**
     * Maps every region of {@code table} from the descriptor at the same position in {@code fds}. The
     * descriptors stay the caller's (a mapping holds its own reference to the file). Fails without
     * leaving anything mapped.
     */
    static MappedMemory map(List<RegionDescription> table, int[] fds) throws IOException {
        Arena arena = Arena.ofShared();
        List<MappedRegion> regions = new ArrayList<>();
        try {
            for (int i = 0; i < table.size(); i++) {
                RegionDescription r = table.get(i);
                check(r, i);
                long size = r.size();
                long address = NativeErrors.check(UnixNative.mmapShared(fds[i], size, r.mmapOffset()),
                        "mmap region " + i + " (" + size + " bytes at offset " + r.mmapOffset() + ")");
                MemorySegment mapping = MemorySegment.ofAddress(address).reinterpret(size, arena,
                        s -> unmap(s.address(), size));
                regions.add(new MappedRegion(r.guestPhysAddr(), size, r.userAddr(), mapping));
            }
            return new MappedMemory(arena, regions);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** A region must be non-empty and none of its three ranges may wrap past 2^64. */
    private static void check(RegionDescription r, int i) throws IOException {
        if (r.size() <= 0 || r.mmapOffset() < 0
                || Long.compareUnsigned(r.guestPhysAddr() + r.size(), r.guestPhysAddr()) < 0
                || Long.compareUnsigned(r.userAddr() + r.size(), r.userAddr()) < 0
                || r.mmapOffset() + r.size() < 0) {
            throw new IOException("memory region " + i + " is empty or wraps: " + r);
        }
    }

    private static void unmap(long address, long size) {
        int r = UnixNative.munmap(address, size);
        if (r < 0) {
            LOG.log(System.Logger.Level.WARNING, "munmap of {0} bytes failed: {1}", size, NativeErrors.name(-r));
        }
    }

    List<MappedRegion> regions() {
        return regions;
    }

    /**
     * Invalidates the segments and unmaps the regions. If some thread still holds the arena (a native
     * call given a segment), the mappings are left in place and logged rather than pulled from under it.
     */
    @Override
    public void close() {
        try {
            arena.close();
        } catch (IllegalStateException e) {
            LOG.log(System.Logger.Level.ERROR, "guest memory still in use; leaving " + regions.size() + " regions mapped", e);
        }
    }
}
