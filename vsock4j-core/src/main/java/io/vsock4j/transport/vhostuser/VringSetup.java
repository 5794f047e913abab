package io.vsock4j.transport.vhostuser;

/**
 * What the frontend told the backend about one split virtqueue before starting it: its {@code size}
 * (descriptors, a power of two), the frontend user addresses of its descriptor table, available ring
 * and used ring (SET_VRING_ADDR; translate them through {@link MappedRegion#userAddr()}), the available
 * index to continue from ({@code nextAvail}, SET_VRING_BASE, or where the ring last stopped), and the
 * address flags (bit 0, VHOST_VRING_F_LOG: log used-ring writes; this backend offers no logging, so it
 * stays 0). The addresses are as the frontend sent them, unchecked. Immutable; any thread.
 */
public record VringSetup(int size, long descUserAddr, long availUserAddr, long usedUserAddr, int nextAvail, int flags) {
}
