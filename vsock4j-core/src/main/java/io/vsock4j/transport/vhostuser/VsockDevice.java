package io.vsock4j.transport.vhostuser;

import io.vsock4j.VsockAddress;
import io.vsock4j.transport.link.HostTransport;
import io.vsock4j.virtqueue.GuestMemory;
import io.vsock4j.virtqueue.GuestMemoryException;
import io.vsock4j.virtqueue.SplitQueue;
import io.vsock4j.virtqueue.VirtioRing;
import io.vsock4j.wire.VirtioVsock;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The virtio-vsock device (virtio spec 5.10) behind one vhost-user socket: one guest, with the CID its
 * config space announces. QEMU's vhost-user-vsock-pci hands the device two rings, rx (0) and tx (1); the
 * event queue (2) stays in QEMU (hw/virtio/vhost-vsock-common.c), which writes its only event,
 * TRANSPORT_RESET, after a migration. A frontend that hands the event ring over as well gets that event
 * from the device each time the ring starts, so a guest whose device restarted drops its stale
 * connections at once instead of when its next packet for them is answered with RST. Each VMM session gets a fresh {@link VsockRings}, attached to the host's
 * H2G transport under the guest's CID when the first ring starts (from then on the host reaches the
 * guest, as vhost-vsock does from VHOST_VSOCK_SET_RUNNING) and taken down when the VMM leaves, which
 * resets the guest's connections with ECONNRESET, as vhost_vsock_reset_orphans does.
 *
 * <p>Offers VIRTIO_F_VERSION_1, VIRTIO_RING_F_EVENT_IDX and VIRTIO_VSOCK_F_SEQPACKET (vhost-device-vsock
 * carries STREAM only).
 *
 * <p>Threads: the backend calls every {@link VhostUserDevice} method on its own thread, one at a time,
 * so the session fields are that thread's; the rings run on the session's ring thread.
 */
final class VsockDevice implements VhostUserDevice {
    private static final System.Logger LOG = System.getLogger(VsockDevice.class.getName());
    /** VIRTIO_F_VERSION_1 (virtio spec 6). */
    static final long F_VERSION_1 = 1L << 32;
    /** VIRTIO_VSOCK_F_SEQPACKET (virtio spec 5.10.3). */
    static final long F_SEQPACKET = 1L << VirtioVsock.F_SEQPACKET;
    static final long FEATURES = F_VERSION_1 | F_SEQPACKET | (1L << VirtioRing.F_EVENT_IDX_BIT);
    static final int QUEUE_COUNT = VsockRings.RINGS;
    static final int MAX_QUEUE_SIZE = 1024;

    private final HostTransport h2g;
    private final int guestCid;
    private final Set<String> groups;
    private final String name;

    // Backend thread only.
    private GuestMemory memory;
    private VsockRings session;
    /** The session's rings for {@link #counters} on other threads; the backend's thread writes it with session. */
    private volatile VsockRings countedSession;
    private Thread ringThread;
    private int sessions;
    /** The next available index of a ring that could not start, for GET_VRING_BASE. */
    private final int[] parkedNextAvail = new int[QUEUE_COUNT];

    VsockDevice(HostTransport h2g, int guestCid, Set<String> groups) {
        this.h2g = h2g;
        this.guestCid = guestCid;
        this.groups = groups;
        this.name = "vhost-user-vsock cid " + VsockAddress.cidToString(guestCid);
    }

    @Override
    public long features() {
        return FEATURES;
    }

    @Override
    public int queueCount() {
        return QUEUE_COUNT;
    }

    @Override
    public int maxQueueSize() {
        return MAX_QUEUE_SIZE;
    }

    /** struct virtio_vsock_config: le64 guest_cid. */
    @Override
    public byte[] config() {
        byte[] config = new byte[8];
        long cid = Integer.toUnsignedLong(guestCid);
        for (int i = 0; i < 8; i++) {
            config[i] = (byte) (cid >>> (8 * i));
        }
        return config;
    }

    @Override
    public void memoryChanged(List<MappedRegion> regions) {
        List<GuestMemory.Region> converted = new ArrayList<>(regions.size());
        for (MappedRegion r : regions) {
            converted.add(new GuestMemory.Region(r.guestPhysAddr(), r.size(), r.userAddr(), r.mapping()));
        }
        memory = new GuestMemory(converted);
    }

    @Override
    public void queueStarted(int index, VringSetup setup, EventFd kick, EventFd call, long ackedFeatures) {
        parkedNextAvail[index] = setup.nextAvail();
        if (memory == null) {
            LOG.log(System.Logger.Level.WARNING, name + ": ring " + index + " started before any memory table; not served");
            return;
        }
        SplitQueue queue;
        try {
            queue = new SplitQueue(memory, setup.size(), memory.userToGuest(setup.descUserAddr()),
                    memory.userToGuest(setup.availUserAddr()), memory.userToGuest(setup.usedUserAddr()),
                    VsockRings.eventIdx(ackedFeatures));
            queue.setNextAvail(setup.nextAvail());
        } catch (GuestMemoryException | IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, name + ": ring " + index + " is not usable: " + e.getMessage());
            return;
        }
        VsockRings rings = session(ackedFeatures);
        if (rings != null) {
            rings.start(index, queue, kick, call);
        }
    }

    /**
     * The session's rings, attached to the H2G transport on first use; null if the CID cannot run (then
     * the rings' eventfd is closed again, as every later ring start tries once more).
     */
    private VsockRings session(long ackedFeatures) {
        if (session != null) {
            return session;
        }
        VsockRings rings;
        try {
            rings = new VsockRings(name + " session " + (sessions + 1));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, name + ": cannot make the rings' eventfd: " + e.getMessage());
            return null;
        }
        try {
            h2g.attach(guestCid, rings, (ackedFeatures & F_SEQPACKET) != 0, groups);
        } catch (IOException e) {
            rings.release();
            LOG.log(System.Logger.Level.ERROR, name + ": the host cannot run this guest: " + e.getMessage());
            return null;
        } catch (RuntimeException e) {
            rings.release();
            throw e;
        }
        sessions++;
        Thread t = Thread.ofPlatform().name(name + " rings").daemon().unstarted(rings);
        t.start();
        session = rings;
        countedSession = rings;
        ringThread = t;
        LOG.log(System.Logger.Level.INFO, name + ": guest running (features 0x" + Long.toHexString(ackedFeatures)
                + (((ackedFeatures & F_SEQPACKET) != 0) ? ", STREAM and SEQPACKET" : ", STREAM only") + ")");
        return rings;
    }

    @Override
    public int queueStopped(int index) {
        if (session != null) {
            int next = session.stop(index);
            if (next >= 0) {
                parkedNextAvail[index] = next;
            }
        }
        return parkedNextAvail[index];
    }

    @Override
    public void frontendGone() {
        endSession("the VMM disconnected");
        memory = null;
    }

    /** Takes the session's link down (the guest's connections reset) and ends its ring thread. */
    void endSession(String reason) {
        VsockRings rings = session;
        if (rings == null) {
            return;
        }
        session = null;
        rings.down(reason);
        rings.shutdown();
        try {
            ringThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        rings.release();
        LOG.log(System.Logger.Level.INFO, name + ": guest stopped (" + reason + ")");
    }

    /** Whether the current or last session's ring thread has taken every packet sent to the guest (tests). */
    boolean ringThreadTookEverySend() {
        VsockRings rings = countedSession;
        return rings == null || rings.tookEverySend();
    }

    /** The ring counters of the current or last VMM session. */
    RingCounters counters() {
        VsockRings rings = countedSession;
        return rings == null ? RingCounters.NONE : rings.counters();
    }

    @Override
    public String toString() {
        return name;
    }
}
