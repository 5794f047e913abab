package io.vsock4j.virtqueue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The guest's RAM as the device sees it: a few regions, each a range of guest-physical addresses mapped
 * into this process (vhost-user's SET_MEM_TABLE hands over one file descriptor per region, and the
 * backend mmaps it). Immutable and thread-safe: a new memory table means a new {@code GuestMemory}.
 *
 * <p>Every address the driver writes into a ring is hostile until checked, so this class is the one door
 * to guest memory: {@link #slice} answers a {@link MemorySegment} confined to one region or throws, and
 * {@link #contains} asks the same question without throwing. Addresses and lengths are unsigned 64-bit
 * values; a range that wraps past 2^64, straddles two regions (even adjacent ones) or leaves every
 * region is refused. A zero-length range may sit at a region's end.
 *
 * <p>Lookup is a binary search over the regions sorted by start address: a VM has a handful of regions
 * (QEMU: usually two to eight), so this allocates nothing and costs a few comparisons.
 */
public final class GuestMemory {
    /**
     * One mapped region. {@code userAddr} is where the vhost-user frontend (QEMU) has the region in its own
     * address space; vhost-user's SET_VRING_ADDR gives ring addresses in that space.
     *
     * @param guestPhysAddr the guest-physical address of the region's first byte
     * @param size the region's length in bytes, at least 1
     * @param userAddr the frontend's virtual address of the region's first byte
     * @param mapping this process's mapping of the region, exactly {@code size} bytes
     */
    public record Region(long guestPhysAddr, long size, long userAddr, MemorySegment mapping) {
        /** @throws IllegalArgumentException if the size is not positive, differs from the mapping's, or a range wraps */
        public Region {
            Objects.requireNonNull(mapping, "mapping");
            if (size <= 0) {
                throw new IllegalArgumentException("region size 0x" + Long.toHexString(size) + " is not positive");
            }
            if (mapping.byteSize() != size) {
                throw new IllegalArgumentException("region size 0x" + Long.toHexString(size) + " but mapping of 0x"
                        + Long.toHexString(mapping.byteSize()) + " bytes");
            }
            if (Long.compareUnsigned(guestPhysAddr + (size - 1), guestPhysAddr) < 0
                    || Long.compareUnsigned(userAddr + (size - 1), userAddr) < 0) {
                throw new IllegalArgumentException("region at guest 0x" + Long.toHexString(guestPhysAddr) + " user 0x"
                        + Long.toHexString(userAddr) + " size 0x" + Long.toHexString(size) + " wraps past 2^64");
            }
        }
    }

    private final List<Region> regions;
    private final long[] guestStarts;
    private final long[] guestSizes;
    private final MemorySegment[] guestMappings;
    private final long[] userStarts;
    private final long[] userSizes;
    private final long[] userToGuestStarts;

    /**
     * @throws IllegalArgumentException if two regions overlap, in guest-physical or in frontend-virtual space
     */
    public GuestMemory(List<Region> regions) {
        Region[] byGuest = regions.toArray(Region[]::new);
        Arrays.sort(byGuest, Comparator.comparing(Region::guestPhysAddr, Long::compareUnsigned));
        Region[] byUser = byGuest.clone();
        Arrays.sort(byUser, Comparator.comparing(Region::userAddr, Long::compareUnsigned));
        int n = byGuest.length;
        guestStarts = new long[n];
        guestSizes = new long[n];
        guestMappings = new MemorySegment[n];
        userStarts = new long[n];
        userSizes = new long[n];
        userToGuestStarts = new long[n];
        for (int i = 0; i < n; i++) {
            guestStarts[i] = byGuest[i].guestPhysAddr();
            guestSizes[i] = byGuest[i].size();
            guestMappings[i] = byGuest[i].mapping();
            userStarts[i] = byUser[i].userAddr();
            userSizes[i] = byUser[i].size();
            userToGuestStarts[i] = byUser[i].guestPhysAddr();
        }
        requireDisjoint("guest-physical", guestStarts, guestSizes);
        requireDisjoint("frontend-virtual", userStarts, userSizes);
        this.regions = List.of(byGuest);
    }

    /** The regions, by guest-physical address. */
    public List<Region> regions() {
        return regions;
    }

    /**
     * The bytes {@code [guestPhysAddr, guestPhysAddr + length)}, a slice of one region's mapping.
     *
     * @throws GuestMemoryException if no single region holds the whole range
     */
    public MemorySegment slice(long guestPhysAddr, long length) {
        int r = find(guestStarts, guestSizes, guestPhysAddr, length);
        if (r < 0) {
            throw new GuestMemoryException("guest address", guestPhysAddr, length);
        }
        return guestMappings[r].asSlice(guestPhysAddr - guestStarts[r], length);
    }

    /** Whether one region holds {@code [guestPhysAddr, guestPhysAddr + length)}; what {@link #slice} checks. */
    public boolean contains(long guestPhysAddr, long length) {
        return find(guestStarts, guestSizes, guestPhysAddr, length) >= 0;
    }

    /**
     * The guest-physical address of the byte the frontend has at {@code userAddr}.
     *
     * @throws GuestMemoryException if no region holds that byte
     */
    public long userToGuest(long userAddr) {
        int r = find(userStarts, userSizes, userAddr, 1);
        if (r < 0) {
            throw new GuestMemoryException("frontend address", userAddr, 1);
        }
        return userToGuestStarts[r] + (userAddr - userStarts[r]);
    }

    /** The index of the region that holds the whole range, or -1; all arithmetic unsigned, none overflowing. */
    private static int find(long[] starts, long[] sizes, long address, long length) {
        int lo = 0;
        int hi = starts.length - 1;
        int candidate = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(starts[mid], address) <= 0) {
                candidate = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (candidate < 0) {
            return -1;
        }
        long offset = address - starts[candidate];
        long size = sizes[candidate];
        // offset + length <= size, written so that nothing can wrap: length <= size, then offset <= size - length.
        if (Long.compareUnsigned(length, size) > 0 || Long.compareUnsigned(offset, size - length) > 0) {
            return -1;
        }
        return candidate;
    }

    private static void requireDisjoint(String space, long[] starts, long[] sizes) {
        for (int i = 1; i < starts.length; i++) {
            long previousLast = starts[i - 1] + (sizes[i - 1] - 1);
            if (Long.compareUnsigned(previousLast, starts[i]) >= 0) {
                throw new IllegalArgumentException(space + " regions at 0x" + Long.toHexString(starts[i - 1])
                        + " (0x" + Long.toHexString(sizes[i - 1]) + " bytes) and 0x" + Long.toHexString(starts[i])
                        + " overlap");
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("GuestMemory[");
        for (int i = 0; i < guestStarts.length; i++) {
            s.append(i == 0 ? "" : ", ").append("0x").append(Long.toHexString(guestStarts[i])).append("+0x")
                    .append(Long.toHexString(guestSizes[i]));
        }
        return s.append(']').toString();
    }
}
