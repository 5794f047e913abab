package io.vsock4j.virtqueue;

/**
 * A guest-physical or frontend-virtual address range that no single region of {@link GuestMemory} holds:
 * outside every region, across a region's end, or wrapping past 2^64. The message names the address and
 * the length in hex. Unchecked: the ring walker never lets one escape for an address the driver wrote;
 * it meets one only when the device (or the vhost-user frontend) hands over a bad address.
 */
public final class GuestMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    GuestMemoryException(String what, long address, long length) {
        super(what + " 0x" + Long.toHexString(address) + " length 0x" + Long.toHexString(length)
                + " is not inside one guest memory region");
    }
}
