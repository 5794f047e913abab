package io.vsock4j.virtqueue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The guest driver's side of one split virtqueue, for tests (public for the vhost-user device's
 * {@code GuestPacketsFuzzTest}, which pops its chains from a real queue): owns guest memory (segments from an
 * {@link Arena}), writes descriptors and the available ring, reads the used ring. One test thread.
 *
 * <p>Guest memory is three regions at guest-physical addresses far from zero, so that an address mixed
 * up with an offset is caught: {@link #RAM_GPA} holds the rings and then the data area; {@link #GAPPED_GPA}
 * sits after a hole; {@link #ADJACENT_GPA} touches its end (a buffer across the two must still be
 * refused). Every region is fenced by guard bytes on both sides, outside guest memory, that
 * {@link #assertGuardsIntact} checks: the device must never write them.
 */
public final class DriverSide {
    public static final long RAM_GPA = 0x7_f000_0000L;
    public static final long SMALL_REGION_BYTES = 4096;
    static final long HOLE_BYTES = 0x10_0000;
    static final long GUARD_BYTES = 4096;
    static final byte GUARD = (byte) 0xA5;
    private static final long GUARD_LONG = 0xA5A5_A5A5_A5A5_A5A5L;
    /** The frontend's address of the first region; the others follow in the same order, with holes. */
    static final long USER_BASE = 0x7f12_3400_0000L;
    public static final long DATA_BYTES = 64 * 1024;
    static final int DATA_ALIGN_BYTES = 4096;

    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INDEX = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    final int size;
    final long descGpa;
    final long availGpa;
    final long usedGpa;
    public final long dataGpa;
    final long ramBytes;
    public final long gappedGpa;
    public final long adjacentGpa;
    final GuestMemory memory;
    private final MemorySegment[] fenced;
    private final MemorySegment ram;
    private int availIdx;

    public DriverSide(Arena arena, int size) {
        this.size = size;
        descGpa = RAM_GPA;
        availGpa = descGpa + VirtioRing.descTableBytes(size);
        usedGpa = align(availGpa + VirtioRing.availRingBytes(size), VirtioRing.USED_ALIGN_BYTES);
        dataGpa = align(usedGpa + VirtioRing.usedRingBytes(size), DATA_ALIGN_BYTES);
        ramBytes = dataGpa - RAM_GPA + DATA_BYTES;
        gappedGpa = RAM_GPA + ramBytes + HOLE_BYTES;
        adjacentGpa = gappedGpa + SMALL_REGION_BYTES;
        fenced = new MemorySegment[] {fenced(arena, ramBytes), fenced(arena, SMALL_REGION_BYTES),
            fenced(arena, SMALL_REGION_BYTES)};
        ram = inner(fenced[0]);
        memory = new GuestMemory(List.of(
                new GuestMemory.Region(adjacentGpa, SMALL_REGION_BYTES, USER_BASE + 0x4000_0000L, inner(fenced[2])),
                new GuestMemory.Region(RAM_GPA, ramBytes, USER_BASE, ram),
                new GuestMemory.Region(gappedGpa, SMALL_REGION_BYTES, USER_BASE + 0x2000_0000L, inner(fenced[1]))));
    }

    private static MemorySegment fenced(Arena arena, long bytes) {
        MemorySegment s = arena.allocate(bytes + 2 * GUARD_BYTES, DATA_ALIGN_BYTES);
        s.fill(GUARD);
        inner(s).fill((byte) 0);
        return s;
    }

    private static MemorySegment inner(MemorySegment fenced) {
        return fenced.asSlice(GUARD_BYTES, fenced.byteSize() - 2 * GUARD_BYTES);
    }

    static long align(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    public SplitQueue queue(boolean eventIdx) {
        return new SplitQueue(memory, size, descGpa, availGpa, usedGpa, eventIdx);
    }

    /** The bytes at a guest-physical address of the first region, as the driver sees them. */
    MemorySegment ramAt(long gpa, long length) {
        return ram.asSlice(gpa - RAM_GPA, length);
    }

    /** The guest-physical address of the data area's byte {@code offset}. */
    long data(long offset) {
        return dataGpa + offset;
    }

    /**
     * The bytes at a guest-physical address in any region, found from the layout (not through
     * {@link GuestMemory}), as the driver sees them.
     *
     * @throws IllegalArgumentException if no region holds the whole range
     */
    public MemorySegment at(long gpa, long length) {
        if (within(gpa, length, RAM_GPA, ramBytes)) {
            return ram.asSlice(gpa - RAM_GPA, length);
        }
        if (within(gpa, length, gappedGpa, SMALL_REGION_BYTES)) {
            return inner(fenced[1]).asSlice(gpa - gappedGpa, length);
        }
        if (within(gpa, length, adjacentGpa, SMALL_REGION_BYTES)) {
            return inner(fenced[2]).asSlice(gpa - adjacentGpa, length);
        }
        throw new IllegalArgumentException("0x" + Long.toHexString(gpa) + "+" + length + " is in no region");
    }

    public void desc(int index, long addr, int len, int flags, int next) {
        MemorySegment d = ramAt(descGpa + (long) VirtioRing.DESC_SIZE_BYTES * index, VirtioRing.DESC_SIZE_BYTES);
        d.set(LE64, VirtioRing.DESC_OFFSET_ADDR, addr);
        d.set(LE32, VirtioRing.DESC_OFFSET_LEN, len);
        d.set(LE16, VirtioRing.DESC_OFFSET_FLAGS, (short) flags);
        d.set(LE16, VirtioRing.DESC_OFFSET_NEXT, (short) next);
    }

    /** Puts {@code head} in the next available slot and publishes it (release on avail.idx). */
    public void offer(int head) {
        putAvailEntry(availIdx, head);
        setAvailIdx(availIdx + 1);
    }

    /** Writes ring[index % size] without publishing it. */
    void putAvailEntry(int index, int head) {
        ramAt(availGpa + VirtioRing.AVAIL_OFFSET_RING + 2L * (index & (size - 1)), 2).set(LE16, 0, (short) head);
    }

    /** Publishes avail.idx, any value the test likes (a hostile driver's jump included). */
    void setAvailIdx(int idx) {
        availIdx = idx & 0xFFFF;
        INDEX.setRelease(ramAt(availGpa, 4), (long) VirtioRing.AVAIL_OFFSET_IDX, (short) availIdx);
    }

    int availIdx() {
        return availIdx;
    }

    void setAvailFlags(int flags) {
        ramAt(availGpa, 2).set(LE16, 0, (short) flags);
    }

    void setUsedEvent(int index) {
        ramAt(availGpa + VirtioRing.usedEventOffset(size), 2).set(LE16, 0, (short) index);
    }

    /** Writes used.idx as a device before this one left it (a reconnect, a wrap test). */
    void presetUsedIdx(int idx) {
        ramAt(usedGpa + VirtioRing.USED_OFFSET_IDX, 2).set(LE16, 0, (short) idx);
    }

    int usedIdx() {
        return Short.toUnsignedInt((short) INDEX.getAcquire(ramAt(usedGpa, 4), (long) VirtioRing.USED_OFFSET_IDX));
    }

    int usedFlags() {
        return Short.toUnsignedInt(ramAt(usedGpa, 2).get(LE16, 0));
    }

    int availEvent() {
        return Short.toUnsignedInt(ramAt(usedGpa + VirtioRing.availEventOffset(size), 2).get(LE16, 0));
    }

    /** The id of the used entry at free-running index {@code index}. */
    int usedId(int index) {
        return usedElem(index).get(LE32, VirtioRing.USED_ELEM_OFFSET_ID);
    }

    /** The len of the used entry at free-running index {@code index}. */
    int usedLen(int index) {
        return usedElem(index).get(LE32, VirtioRing.USED_ELEM_OFFSET_LEN);
    }

    private MemorySegment usedElem(int index) {
        return ramAt(usedGpa + VirtioRing.USED_OFFSET_RING
                + (long) VirtioRing.USED_ELEM_SIZE_BYTES * (index & (size - 1)), VirtioRing.USED_ELEM_SIZE_BYTES);
    }

    /** Whether the driver must kick after moving avail.idx from {@code oldIdx} to {@code newIdx}. */
    boolean mustKick(boolean eventIdx, int oldIdx, int newIdx) {
        if (eventIdx) {
            return VirtioRing.needEvent(availEvent(), newIdx, oldIdx);
        }
        return (usedFlags() & VirtioRing.USED_F_NO_NOTIFY) == 0;
    }

    /** A copy of every region's bytes, to prove a broken queue writes nothing more. */
    byte[][] snapshot() {
        byte[][] out = new byte[fenced.length][];
        for (int i = 0; i < fenced.length; i++) {
            out[i] = fenced[i].toArray(ValueLayout.JAVA_BYTE);
        }
        return out;
    }

    /** Whether {@code [gpa, gpa+length)} lies in one region; computed from the layout, not from GuestMemory. */
    boolean inOneRegion(long gpa, long length) {
        return within(gpa, length, RAM_GPA, ramBytes) || within(gpa, length, gappedGpa, SMALL_REGION_BYTES)
                || within(gpa, length, adjacentGpa, SMALL_REGION_BYTES);
    }

    private static boolean within(long gpa, long length, long start, long bytes) {
        return length >= 0 && gpa >= start && length <= bytes && gpa - start <= bytes - length;
    }

    /** Zeroes guest memory and forgets avail.idx: a fresh driver over the same memory (the fuzz test reuses it). */
    public void reset() {
        for (MemorySegment f : fenced) {
            inner(f).fill((byte) 0);
        }
        availIdx = 0;
    }

    /** Fails if any guard byte around a region changed. Plain loops: the fuzz test calls it for every input. */
    public void assertGuardsIntact() {
        for (MemorySegment f : fenced) {
            for (long at = 0; at < GUARD_BYTES; at += Long.BYTES) {
                if (f.get(ValueLayout.JAVA_LONG_UNALIGNED, at) != GUARD_LONG
                        || f.get(ValueLayout.JAVA_LONG_UNALIGNED, f.byteSize() - GUARD_BYTES + at) != GUARD_LONG) {
                    throw new AssertionError("a guard byte outside guest memory changed, near offset " + at);
                }
            }
        }
    }
}
