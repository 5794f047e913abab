package io.vsock4j.virtqueue;

/**
 * The split virtqueue's layout and flags, as include/uapi/linux/virtio_ring.h and the virtio 1.x
 * specification (section 2.7, "Split Virtqueues") define them. Every field is little-endian. Stateless.
 *
 * <pre>
 * Descriptor table: Queue Size entries of 16 bytes, 16-byte aligned; written by the driver.
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------------------------------------------------------+
 * |                  addr (le64): guest-physical                  |  0
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                  len (le32): bytes                            |  8
 * +-------------------------------+-------------------------------+
 * |  flags (le16): NEXT|WRITE|    |  next (le16): the following   | 12
 * |                INDIRECT       |  descriptor when NEXT is set  |
 * +-------------------------------+-------------------------------+
 *
 * Available ring: 6 + 2 * Queue Size bytes, 2-byte aligned; written by the driver.
 * +-------------------------------+-------------------------------+
 * |  flags (le16): NO_INTERRUPT   |  idx (le16): free-running,    |  0
 * |                               |  the next slot it will fill   |
 * +-------------------------------+-------------------------------+
 * |  ring[Queue Size] (le16): heads of descriptor chains          |  4
 * +-------------------------------+-------------------------------+
 * |  used_event (le16), EVENT_IDX |                                  4 + 2 * Queue Size
 * +-------------------------------+
 *
 * Used ring: 6 + 8 * Queue Size bytes, 4-byte aligned; written by the device.
 * +-------------------------------+-------------------------------+
 * |  flags (le16): NO_NOTIFY      |  idx (le16): free-running     |  0
 * +-------------------------------+-------------------------------+
 * |  ring[Queue Size]: id (le32) the chain's head,                |  4
 * |                    len (le32) bytes the device wrote into it  |
 * +-------------------------------+-------------------------------+
 * |  avail_event (le16), EVENT_IDX|                                  4 + 8 * Queue Size
 * +-------------------------------+
 * </pre>
 */
public final class VirtioRing {
    /** The largest Queue Size; a power of two that 16-bit indexes still tell full from empty. */
    public static final int MAX_QUEUE_SIZE = 32768;

    /** VIRTQ_DESC_F_NEXT: the chain continues at {@code next}. */
    public static final int DESC_F_NEXT = 1;
    /** VIRTQ_DESC_F_WRITE: the buffer is device-writable (otherwise device-readable). */
    public static final int DESC_F_WRITE = 2;
    /** VIRTQ_DESC_F_INDIRECT: the buffer is a table of descriptors (needs VIRTIO_RING_F_INDIRECT_DESC). */
    public static final int DESC_F_INDIRECT = 4;
    /** VIRTQ_AVAIL_F_NO_INTERRUPT: the driver asks for no used-buffer notifications (without EVENT_IDX). */
    public static final int AVAIL_F_NO_INTERRUPT = 1;
    /** VIRTQ_USED_F_NO_NOTIFY: the device asks for no available-buffer notifications (without EVENT_IDX). */
    public static final int USED_F_NO_NOTIFY = 1;

    /** Feature bit VIRTIO_RING_F_INDIRECT_DESC; this package does not offer it. */
    public static final int F_INDIRECT_DESC_BIT = 28;
    /** Feature bit VIRTIO_RING_F_EVENT_IDX: used_event and avail_event replace the flags. */
    public static final int F_EVENT_IDX_BIT = 29;

    public static final int DESC_SIZE_BYTES = 16;
    public static final int DESC_ALIGN_BYTES = 16;
    public static final int DESC_OFFSET_ADDR = 0;
    public static final int DESC_OFFSET_LEN = 8;
    public static final int DESC_OFFSET_FLAGS = 12;
    public static final int DESC_OFFSET_NEXT = 14;

    public static final int AVAIL_ALIGN_BYTES = 2;
    public static final int AVAIL_OFFSET_FLAGS = 0;
    public static final int AVAIL_OFFSET_IDX = 2;
    public static final int AVAIL_OFFSET_RING = 4;
    public static final int AVAIL_ENTRY_SIZE_BYTES = 2;

    public static final int USED_ALIGN_BYTES = 4;
    public static final int USED_OFFSET_FLAGS = 0;
    public static final int USED_OFFSET_IDX = 2;
    public static final int USED_OFFSET_RING = 4;
    public static final int USED_ELEM_SIZE_BYTES = 8;
    public static final int USED_ELEM_OFFSET_ID = 0;
    public static final int USED_ELEM_OFFSET_LEN = 4;

    private VirtioRing() {
    }

    /** Whether {@code size} is a valid Queue Size: a power of two from 1 to {@link #MAX_QUEUE_SIZE}. */
    public static boolean isValidQueueSize(int size) {
        return size >= 1 && size <= MAX_QUEUE_SIZE && Integer.bitCount(size) == 1;
    }

    /** Bytes of the descriptor table of a queue of {@code size}. */
    public static long descTableBytes(int size) {
        return (long) DESC_SIZE_BYTES * size;
    }

    /** Bytes of the available ring of a queue of {@code size}, used_event included. */
    public static long availRingBytes(int size) {
        return AVAIL_OFFSET_RING + (long) AVAIL_ENTRY_SIZE_BYTES * size + 2;
    }

    /** Bytes of the used ring of a queue of {@code size}, avail_event included. */
    public static long usedRingBytes(int size) {
        return USED_OFFSET_RING + (long) USED_ELEM_SIZE_BYTES * size + 2;
    }

    /** Offset of used_event in the available ring. */
    public static long usedEventOffset(int size) {
        return AVAIL_OFFSET_RING + (long) AVAIL_ENTRY_SIZE_BYTES * size;
    }

    /** Offset of avail_event in the used ring. */
    public static long availEventOffset(int size) {
        return USED_OFFSET_RING + (long) USED_ELEM_SIZE_BYTES * size;
    }

    /**
     * vring_need_event: whether moving an index from {@code oldIdx} to {@code newIdx} passed {@code event},
     * that is, wrote the entry at index {@code event}; all three are 16-bit and wrap. With EVENT_IDX this
     * decides both directions: the device interrupts when its used idx passes the driver's used_event, and
     * the driver kicks when its avail idx passes the device's avail_event.
     */
    public static boolean needEvent(int event, int newIdx, int oldIdx) {
        return ((newIdx - event - 1) & 0xFFFF) < ((newIdx - oldIdx) & 0xFFFF);
    }
}
