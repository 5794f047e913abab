package io.vsock4j.virtqueue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The device side of one split virtqueue (virtio 1.x section 2.7) over guest memory the driver also
 * writes, and which the device must not trust.
 *
 * <p><b>Thread contract.</b> One thread owns a queue, from construction on: it pops, adds used entries,
 * asks about interrupts and toggles kicks. Nothing here is synchronized, and a hand-over to another
 * thread needs a happens-before edge (a queue handed through a {@code BlockingQueue}, a thread start).
 * The guest runs concurrently on the other side of the rings; the memory ordering below is for it.
 *
 * <p><b>The protocol.</b> The driver fills descriptors, writes a chain's head into the available ring at
 * {@code avail.idx % size}, then increments {@code avail.idx} (free-running, wrapping at 65536) after a
 * write barrier. The device reads {@code avail.idx} with acquire ordering, so every descriptor and ring
 * entry written before it is visible, walks each new chain ({@link #pop}), and when done writes
 * {@code {id, len}} into the used ring and publishes {@code used.idx} with release ordering
 * ({@link #addUsed}), so the driver never sees the index before the entry or the bytes written into the
 * buffers. The device then tells the driver, unless the driver asked not to be told ({@link #needsInterrupt}).
 *
 * <p><b>Hostile drivers.</b> Every value read from the rings is checked before use, and read once: a
 * descriptor's fields go into locals, then into the caller's {@link DescriptorChain}. The two outcomes of
 * a bad chain, dropped (given back used with length 0) or broken (the queue stops), are
 * {@link ChainFault}'s to document case by case. All guest memory goes through {@link GuestMemory}, so
 * nothing outside its regions is ever read or written. A broken queue writes guest memory no more.
 *
 * <p><b>Notifications both ways.</b> Without VIRTIO_RING_F_EVENT_IDX the two sides use flags:
 * {@code avail.flags & NO_INTERRUPT} (driver: do not interrupt me) and {@code used.flags & NO_NOTIFY}
 * (device: do not kick me). With it, each side writes the index it wants to hear about: {@code used_event}
 * at the end of the available ring, {@code avail_event} at the end of the used ring, tested with
 * {@link VirtioRing#needEvent}. Both are hints the other side reads without locks, so a device that stops
 * listening must look once more after it starts again, or it may sleep on a chain that arrived in
 * between:
 *
 * <pre>{@code
 * // on a kick:
 * queue.disableKicks();
 * while (true) {
 *     while (queue.pop(chain)) {
 *         handle(chain);                       // ... queue.addUsed(chain.head(), written)
 *     }
 *     if (queue.needsInterrupt()) signalGuest();
 *     queue.enableKicks();                     // ends with a full fence
 *     if (!queue.hasAvailable()) break;        // the re-check: nothing slipped in, sleep until the next kick
 *     queue.disableKicks();                    // something did: take it now, the driver may not kick for it
 * }
 * }</pre>
 *
 * <p>Popping, adding and notifying allocate nothing: the per-head bookkeeping is sized to the queue.
 */
public final class SplitQueue {
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /**
     * (MemorySegment, long offset) -> short, for the fields the two sides hand over: idx, flags, the event
     * indexes. Acquire and release need an aligned layout and address; the constructor checks the rings'.
     */
    private static final VarHandle INDEX = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
    private static final int INDEX_MASK = 0xFFFF;
    private static final long MAX_CHAIN_BYTES = 0xFFFF_FFFFL;

    private final GuestMemory memory;
    private final int size;
    private final boolean eventIdx;
    private final MemorySegment descTable;
    private final MemorySegment availRing;
    private final MemorySegment usedRing;
    private final long usedEventOffset;
    private final long availEventOffset;
    /** Per head: whether the device holds that chain (popped, not yet added used). */
    private final boolean[] inFlight;
    /** Per head in flight: its writable bytes (unsigned 32-bit), the most addUsed may report. */
    private final int[] inFlightWritable;

    /** The avail ring index of the next chain to pop; 16 bits. */
    private int nextAvail;
    /** The last avail.idx read from the ring (with acquire); entries up to it are visible. 16 bits. */
    private int shadowAvail;
    /** The used ring index the next used entry goes to; 16 bits, published as used.idx. */
    private int nextUsed;
    /** used.idx when needsInterrupt last looked; 16 bits. */
    private int signalledUsed;
    private ChainFault brokenBy;
    private ChainFault lastDrop;
    private long droppedChains;

    /**
     * A queue over rings the driver placed in guest memory. Reads used.idx from the ring, so a queue
     * rebuilt over rings already in use (a reconnecting backend) goes on where the last one stopped.
     *
     * @param size the Queue Size: a power of two, 1 to 32768
     * @param descTableGpa the descriptor table, 16-byte aligned
     * @param availRingGpa the available ring (driver area), 2-byte aligned
     * @param usedRingGpa the used ring (device area), 4-byte aligned
     * @param eventIdx whether VIRTIO_RING_F_EVENT_IDX was negotiated
     * @throws IllegalArgumentException if the size is not a valid Queue Size or an area is misaligned
     *     (in guest-physical space, or in this process's mapping)
     * @throws GuestMemoryException if an area is not inside one region
     */
    public SplitQueue(GuestMemory memory, int size, long descTableGpa, long availRingGpa, long usedRingGpa,
            boolean eventIdx) {
        if (!VirtioRing.isValidQueueSize(size)) {
            throw new IllegalArgumentException("queue size " + size + " is not a power of two from 1 to "
                    + VirtioRing.MAX_QUEUE_SIZE);
        }
        this.memory = memory;
        this.size = size;
        this.eventIdx = eventIdx;
        descTable = area(memory, "descriptor table", descTableGpa, VirtioRing.descTableBytes(size),
                VirtioRing.DESC_ALIGN_BYTES);
        availRing = area(memory, "available ring", availRingGpa, VirtioRing.availRingBytes(size),
                VirtioRing.AVAIL_ALIGN_BYTES);
        usedRing = area(memory, "used ring", usedRingGpa, VirtioRing.usedRingBytes(size), VirtioRing.USED_ALIGN_BYTES);
        usedEventOffset = VirtioRing.usedEventOffset(size);
        availEventOffset = VirtioRing.availEventOffset(size);
        inFlight = new boolean[size];
        inFlightWritable = new int[size];
        nextUsed = Short.toUnsignedInt((short) INDEX.getAcquire(usedRing, (long) VirtioRing.USED_OFFSET_IDX));
        signalledUsed = nextUsed;
    }

    private static MemorySegment area(GuestMemory memory, String name, long gpa, long bytes, int alignBytes) {
        if ((gpa & (alignBytes - 1)) != 0) {
            throw new IllegalArgumentException(name + " at guest 0x" + Long.toHexString(gpa) + " is not "
                    + alignBytes + "-byte aligned");
        }
        MemorySegment area = memory.slice(gpa, bytes);
        if (area.maxByteAlignment() < alignBytes) {
            throw new IllegalArgumentException(name + " at guest 0x" + Long.toHexString(gpa)
                    + " is mapped at a host address that is not " + alignBytes + "-byte aligned");
        }
        return area;
    }

    /** The Queue Size. */
    public int size() {
        return size;
    }

    /** Whether VIRTIO_RING_F_EVENT_IDX is in use. */
    public boolean eventIdx() {
        return eventIdx;
    }

    /** The available-ring index of the next chain to pop (vhost-user's GET_VRING_BASE), 0 to 65535. */
    public int nextAvail() {
        return nextAvail;
    }

    /**
     * Where popping starts (vhost-user's SET_VRING_BASE); before the first pop.
     *
     * @throws IllegalArgumentException if {@code index} is not 0 to 65535
     */
    public void setNextAvail(int index) {
        if ((index & ~INDEX_MASK) != 0) {
            throw new IllegalArgumentException("avail index " + index + " is not 16-bit");
        }
        nextAvail = index;
        shadowAvail = index;
    }

    /** The used-ring index the next used entry goes to, which is used.idx as published; 0 to 65535. */
    public int nextUsed() {
        return nextUsed;
    }

    /** Whether the driver broke the queue; then nothing more is popped and guest memory is not written. */
    public boolean isBroken() {
        return brokenBy != null;
    }

    /** What broke the queue, or null while it works. */
    public ChainFault brokenBy() {
        return brokenBy;
    }

    /** How many chains were dropped (given back with length 0) since the queue was built. */
    public long droppedChains() {
        return droppedChains;
    }

    /** Why the last chain was dropped, or null if none was. */
    public ChainFault lastDrop() {
        return lastDrop;
    }

    /**
     * Takes the next available chain into {@code chain} and returns true, or returns false when the ring
     * is empty or broken (and then {@code chain} holds nothing). Bad chains on the way are dropped, each
     * given back in the used ring with length 0, which is why a pop may publish used entries; call
     * {@link #needsInterrupt} after popping too.
     *
     * @throws IllegalArgumentException if {@code chain} holds fewer descriptors than the queue's size
     */
    public boolean pop(DescriptorChain chain) {
        if (chain.capacity() < size) {
            throw new IllegalArgumentException("chain of capacity " + chain.capacity() + " for a queue of " + size);
        }
        while (hasAvailable()) {
            int slot = nextAvail & (size - 1);
            int head = Short.toUnsignedInt(availRing.get(LE16,
                    VirtioRing.AVAIL_OFFSET_RING + (long) VirtioRing.AVAIL_ENTRY_SIZE_BYTES * slot));
            nextAvail = (nextAvail + 1) & INDEX_MASK;
            if (head >= size) {
                brokenBy = ChainFault.HEAD_OUT_OF_RANGE;
                break;
            }
            ChainFault fault = inFlight[head] ? ChainFault.HEAD_IN_FLIGHT : walk(head, chain);
            if (fault == null) {
                inFlight[head] = true;
                inFlightWritable[head] = (int) chain.writableBytes();
                return true;
            }
            droppedChains++;
            lastDrop = fault;
            publishUsed(head, 0);
        }
        chain.clear();
        return false;
    }

    /**
     * Whether a chain waits to be popped: reads avail.idx (acquire) when the device has caught up with the
     * last value it read. An index that moved more than the queue's size, or backwards, breaks the queue.
     */
    public boolean hasAvailable() {
        if (brokenBy != null) {
            return false;
        }
        if (nextAvail == shadowAvail) {
            int idx = Short.toUnsignedInt((short) INDEX.getAcquire(availRing, (long) VirtioRing.AVAIL_OFFSET_IDX));
            if (((idx - nextAvail) & INDEX_MASK) > size) {
                brokenBy = ChainFault.AVAIL_INDEX_JUMP;
                return false;
            }
            shadowAvail = idx;
        }
        return nextAvail != shadowAvail;
    }

    /** Walks the chain at {@code head} into {@code chain}: null when it is good, else why it is not. */
    private ChainFault walk(int head, DescriptorChain chain) {
        chain.start(memory, head);
        int index = head;
        int count = 0;
        long total = 0;
        boolean sawWritable = false;
        while (true) {
            if (count == size) {
                return ChainFault.CHAIN_TOO_LONG;
            }
            long at = (long) VirtioRing.DESC_SIZE_BYTES * index;
            long address = descTable.get(LE64, at + VirtioRing.DESC_OFFSET_ADDR);
            int length = descTable.get(LE32, at + VirtioRing.DESC_OFFSET_LEN);
            int flags = Short.toUnsignedInt(descTable.get(LE16, at + VirtioRing.DESC_OFFSET_FLAGS));
            int next = Short.toUnsignedInt(descTable.get(LE16, at + VirtioRing.DESC_OFFSET_NEXT));
            if ((flags & VirtioRing.DESC_F_INDIRECT) != 0) {
                return ChainFault.INDIRECT;
            }
            boolean writable = (flags & VirtioRing.DESC_F_WRITE) != 0;
            if (sawWritable && !writable) {
                return ChainFault.READABLE_AFTER_WRITABLE;
            }
            sawWritable = writable;
            if (!memory.contains(address, Integer.toUnsignedLong(length))) {
                return ChainFault.BUFFER_OUTSIDE_MEMORY;
            }
            total += Integer.toUnsignedLong(length);
            if (total > MAX_CHAIN_BYTES) {
                return ChainFault.LENGTH_OVERFLOW;
            }
            chain.add(address, length, writable);
            count++;
            if ((flags & VirtioRing.DESC_F_NEXT) == 0) {
                return null;
            }
            if (next >= size) {
                return ChainFault.NEXT_OUT_OF_RANGE;
            }
            index = next;
        }
    }

    /**
     * Gives the chain at {@code head} back to the driver: writes the used entry, then publishes used.idx
     * with release ordering, so the driver sees the entry and the {@code writtenBytes} bytes the device
     * wrote into the chain's writable buffers before it sees the index. On a broken queue the chain is
     * forgotten and nothing is written.
     *
     * @param writtenBytes bytes written from the first writable buffer on, unsigned, at most the chain's
     *     {@link DescriptorChain#writableBytes()}
     * @throws IllegalArgumentException if {@code head} is not a chain this queue popped and still holds, or
     *     {@code writtenBytes} is more than the chain's writable bytes
     */
    public void addUsed(int head, int writtenBytes) {
        if (head < 0 || head >= size || !inFlight[head]) {
            throw new IllegalArgumentException("head " + head + " is not a chain the device holds");
        }
        if (Integer.compareUnsigned(writtenBytes, inFlightWritable[head]) > 0) {
            throw new IllegalArgumentException("wrote " + Integer.toUnsignedString(writtenBytes) + " bytes into head "
                    + head + " with " + Integer.toUnsignedString(inFlightWritable[head]) + " writable bytes");
        }
        inFlight[head] = false;
        if (brokenBy == null) {
            publishUsed(head, writtenBytes);
        }
    }

    private void publishUsed(int head, int writtenBytes) {
        long at = VirtioRing.USED_OFFSET_RING + (long) VirtioRing.USED_ELEM_SIZE_BYTES * (nextUsed & (size - 1));
        usedRing.set(LE32, at + VirtioRing.USED_ELEM_OFFSET_ID, head);
        usedRing.set(LE32, at + VirtioRing.USED_ELEM_OFFSET_LEN, writtenBytes);
        nextUsed = (nextUsed + 1) & INDEX_MASK;
        INDEX.setRelease(usedRing, (long) VirtioRing.USED_OFFSET_IDX, (short) nextUsed);
    }

    /**
     * Whether the driver wants a used-buffer notification for the entries published since the last call.
     * With EVENT_IDX: whether used.idx passed the driver's used_event since then. Without: whether any
     * entry was published and avail.flags lacks NO_INTERRUPT. False on a broken queue. A full fence first
     * orders the used.idx store before the load of the driver's field, or both sides could miss each other.
     */
    public boolean needsInterrupt() {
        if (brokenBy != null || nextUsed == signalledUsed) {
            return false;
        }
        int old = signalledUsed;
        signalledUsed = nextUsed;
        VarHandle.fullFence();
        if (eventIdx) {
            int usedEvent = Short.toUnsignedInt((short) INDEX.getAcquire(availRing, usedEventOffset));
            return VirtioRing.needEvent(usedEvent, nextUsed, old);
        }
        int flags = Short.toUnsignedInt((short) INDEX.getAcquire(availRing, (long) VirtioRing.AVAIL_OFFSET_FLAGS));
        return (flags & VirtioRing.AVAIL_F_NO_INTERRUPT) == 0;
    }

    /**
     * Asks the driver to kick for the next chain it makes available. With EVENT_IDX: avail_event = the last
     * avail.idx the device read (kick when you write the entry after the ones I know of). Without: clears
     * used.flags' NO_NOTIFY. Ends with a full fence so that the caller's re-check ({@link #hasAvailable})
     * reads avail.idx after the driver can see this store; see the class comment for the loop.
     */
    public void enableKicks() {
        if (brokenBy != null) {
            return;
        }
        if (eventIdx) {
            INDEX.setRelease(usedRing, availEventOffset, (short) shadowAvail);
        } else {
            INDEX.setRelease(usedRing, (long) VirtioRing.USED_OFFSET_FLAGS, (short) 0);
        }
        VarHandle.fullFence();
    }

    /**
     * Tells the driver kicks are not needed while the device is busy with the ring. Without EVENT_IDX: sets
     * used.flags' NO_NOTIFY. With EVENT_IDX it writes nothing (the spec wants used.flags 0): avail_event
     * stays where the last enable put it, so the driver kicks at most once more, when it passes that index
     * (and again only after avail.idx wraps 65536 entries later).
     */
    public void disableKicks() {
        if (brokenBy != null || eventIdx) {
            return;
        }
        INDEX.setRelease(usedRing, (long) VirtioRing.USED_OFFSET_FLAGS, (short) VirtioRing.USED_F_NO_NOTIFY);
    }

    @Override
    public String toString() {
        return "SplitQueue[size=" + size + ", nextAvail=" + nextAvail + ", nextUsed=" + nextUsed
                + (brokenBy != null ? ", broken by " + brokenBy : "") + ", dropped=" + droppedChains + "]";
    }
}
