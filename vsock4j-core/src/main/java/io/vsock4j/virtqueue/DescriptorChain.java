package io.vsock4j.virtqueue;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * One descriptor chain as {@link SplitQueue#pop} found it: the head (the id to give back with
 * {@link SplitQueue#addUsed}), then the device-readable buffers, then the device-writable ones, each a
 * guest-physical address and a length already checked to lie in one region of guest memory.
 *
 * <p>Reusable and owned by the queue's thread: the caller keeps one per queue, and each successful pop
 * overwrites it. Its arrays are sized once for the longest chain the queue allows (Queue Size
 * descriptors), so popping allocates nothing. The addresses and lengths are the device's own copies,
 * read once from the descriptor table: a driver that rewrites a descriptor after the pop cannot move a
 * buffer the device has already checked. The buffers' contents stay shared with the guest, which may
 * change them at any time.
 */
public final class DescriptorChain {
    private final long[] addresses;
    private final int[] lengths;
    private GuestMemory memory;
    private int head = -1;
    private int count;
    private int readableCount;
    private long readableBytes;
    private long writableBytes;

    /**
     * A chain able to hold {@code capacity} descriptors; pass the queue's size.
     *
     * @throws IllegalArgumentException if capacity is not 1 to {@link VirtioRing#MAX_QUEUE_SIZE}
     */
    public DescriptorChain(int capacity) {
        if (capacity < 1 || capacity > VirtioRing.MAX_QUEUE_SIZE) {
            throw new IllegalArgumentException("capacity " + capacity + " not in 1.." + VirtioRing.MAX_QUEUE_SIZE);
        }
        addresses = new long[capacity];
        lengths = new int[capacity];
    }

    /** The most descriptors this chain can hold. */
    public int capacity() {
        return addresses.length;
    }

    /** The index of the chain's first descriptor, its id in the used ring; -1 before the first pop. */
    public int head() {
        return head;
    }

    /** How many device-readable buffers the chain has (the driver's data for the device). */
    public int readableCount() {
        return readableCount;
    }

    /** How many device-writable buffers the chain has (room for the device's answer). */
    public int writableCount() {
        return count - readableCount;
    }

    /** The sum of the readable buffers' lengths in bytes. */
    public long readableBytes() {
        return readableBytes;
    }

    /** The sum of the writable buffers' lengths in bytes; {@link SplitQueue#addUsed} may report up to this. */
    public long writableBytes() {
        return writableBytes;
    }

    /** The guest-physical address of readable buffer {@code i}. */
    public long readableAddress(int i) {
        return addresses[Objects.checkIndex(i, readableCount)];
    }

    /** The length in bytes of readable buffer {@code i}. */
    public long readableLength(int i) {
        return Integer.toUnsignedLong(lengths[Objects.checkIndex(i, readableCount)]);
    }

    /** The guest-physical address of writable buffer {@code i}. */
    public long writableAddress(int i) {
        return addresses[readableCount + Objects.checkIndex(i, count - readableCount)];
    }

    /** The length in bytes of writable buffer {@code i}. */
    public long writableLength(int i) {
        return Integer.toUnsignedLong(lengths[readableCount + Objects.checkIndex(i, count - readableCount)]);
    }

    /** Readable buffer {@code i} as a slice of guest memory (a new view object; the bytes are the guest's). */
    public MemorySegment readable(int i) {
        return memory.slice(readableAddress(i), readableLength(i));
    }

    /** Writable buffer {@code i} as a slice of guest memory (a new view object; the bytes are the guest's). */
    public MemorySegment writable(int i) {
        return memory.slice(writableAddress(i), writableLength(i));
    }

    /** Starts over for the chain at {@code head}; the queue's walker calls this, then {@link #add}. */
    void start(GuestMemory memory, int head) {
        this.memory = memory;
        this.head = head;
        count = 0;
        readableCount = 0;
        readableBytes = 0;
        writableBytes = 0;
    }

    /** Appends a checked buffer; readable ones only before the first writable one (the walker ensures it). */
    void add(long address, int length, boolean writable) {
        addresses[count] = address;
        lengths[count] = length;
        count++;
        if (writable) {
            writableBytes += Integer.toUnsignedLong(length);
        } else {
            readableCount++;
            readableBytes += Integer.toUnsignedLong(length);
        }
    }

    /** Forgets the chain: after a pop that found nothing, the chain holds nothing. */
    void clear() {
        start(memory, -1);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("DescriptorChain[head=").append(head);
        for (int i = 0; i < count; i++) {
            s.append(i < readableCount ? " r" : " w").append(":0x").append(Long.toHexString(addresses[i])).append('+')
                    .append(Integer.toUnsignedString(lengths[i]));
        }
        return s.append(']').toString();
    }
}
