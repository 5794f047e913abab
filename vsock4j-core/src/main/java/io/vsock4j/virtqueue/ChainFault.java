package io.vsock4j.virtqueue;

/**
 * What a driver got wrong in a split virtqueue, and what {@link SplitQueue} does about it. Two outcomes:
 *
 * <ul>
 *   <li><b>Dropped</b>: the chain has a head the driver can recognize, so the device hands it straight back
 *       in the used ring with length 0 (nothing written) and goes on to the next entry. The driver gets its
 *       descriptors back; the queue keeps working. Counted by {@link SplitQueue#droppedChains()}.</li>
 *   <li><b>Broken</b>: the available ring itself cannot be trusted, so there is no head to give back and
 *       no way to know where the next entry is. The queue stops for good, like a device that sets
 *       DEVICE_NEEDS_RESET (virtio 1.x section 2.1): nothing more is popped and guest memory is not
 *       written again; the driver has to reset the device.</li>
 * </ul>
 *
 * Stateless; any thread.
 */
public enum ChainFault {
    /**
     * Broken: avail idx moved more than Queue Size entries past the last one the device took, or went
     * backwards. Entries would be read twice or skipped, and the driver broke the one rule that makes the
     * free-running index meaningful (it never offers more than Queue Size chains).
     */
    AVAIL_INDEX_JUMP(true),
    /**
     * Broken: an available-ring entry names a head outside the descriptor table. No chain exists to return
     * under that id, and writing the id back would hand the driver a number it never offered.
     */
    HEAD_OUT_OF_RANGE(true),
    /** Dropped: the head was offered again while the device still holds the chain it began. */
    HEAD_IN_FLIGHT(false),
    /** Dropped: a descriptor's {@code next} (with NEXT set) is outside the descriptor table. */
    NEXT_OUT_OF_RANGE(false),
    /** Dropped: the chain has more descriptors than the table holds, so it loops. */
    CHAIN_TOO_LONG(false),
    /** Dropped: a device-readable descriptor follows a device-writable one (the spec forbids it). */
    READABLE_AFTER_WRITABLE(false),
    /** Dropped: INDIRECT is set, and VIRTIO_RING_F_INDIRECT_DESC is not offered. */
    INDIRECT(false),
    /** Dropped: a buffer is not inside one region of guest memory. */
    BUFFER_OUTSIDE_MEMORY(false),
    /** Dropped: the chain's buffers add up to more than 2^32 - 1 bytes. */
    LENGTH_OVERFLOW(false);

    private final boolean breaksQueue;

    ChainFault(boolean breaksQueue) {
        this.breaksQueue = breaksQueue;
    }

    /** True when this fault stops the queue, false when only the chain is dropped. */
    public boolean breaksQueue() {
        return breaksQueue;
    }
}
