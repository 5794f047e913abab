package io.vsock4j.transport.vhostuser;

import java.util.List;

/**
 * A virtio device served over vhost-user: what {@link VhostUserBackend} needs from it to answer the
 * frontend, and the events it hands on. The backend speaks the protocol; the device walks the rings.
 *
 * <p>Threads: the backend calls every method on its own thread, one call at a time, in protocol order.
 * The device may run its rings on threads of its own; it must be done with a ring's memory, kick and call
 * when {@link #queueStopped} returns, and with all guest memory when {@link #frontendGone} returns or a
 * later {@link #memoryChanged} replaces it (the backend stops every running ring before changing the
 * memory table, and starts them again afterwards).
 */
public interface VhostUserDevice {
    /** Virtio device feature bits the backend offers (VIRTIO_F_VERSION_1 etc.). */
    long features();

    /** Virtqueues the device has; ring indexes the frontend sends are below this. */
    int queueCount();

    /** The largest ring size the device accepts (a power of two). */
    int maxQueueSize();

    /** The device's virtio config space, which GET_CONFIG reads (vsock: le64 guest_cid). */
    byte[] config();

    /** The frontend set a new memory table; the previous one (if any) is unmapped after this returns. */
    void memoryChanged(List<MappedRegion> regions);

    /**
     * Ring {@code index} starts: the frontend has set it up, sent its kick eventfd and (with
     * VHOST_USER_F_PROTOCOL_FEATURES) enabled it. {@code kick} becomes readable when the driver adds
     * buffers, and is null when the frontend asked the backend to poll instead; signal {@code call} after
     * adding to the used ring, unless it is null (the frontend polls). The backend owns both eventfds and
     * closes them after the ring stops. {@code ackedFeatures} is the virtio feature word the frontend set.
     */
    void queueStarted(int index, VringSetup setup, EventFd kick, EventFd call, long ackedFeatures);

    /**
     * Ring {@code index} stops (GET_VRING_BASE, disabling, reconfiguration, or the frontend leaving).
     * Returns the next available index: the first available-ring entry the device has not consumed,
     * which GET_VRING_BASE reports and a restart continues from.
     */
    int queueStopped(int index);

    /**
     * The frontend disconnected or reset its ownership. Every running ring was stopped first; drop the
     * memory regions, which are unmapped when this returns.
     */
    void frontendGone();
}
