package io.vsock4j.transport.link;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.engine.Packet;
import io.vsock4j.spi.Errno;
import io.vsock4j.spi.SocketProvider;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;

import java.io.IOException;
import java.util.Map;
import java.util.TreeSet;
import java.util.SortedSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The H2G transport of a host machine: what vhost-vsock is in Linux, one slot holding every running
 * guest, each on its own {@link PacketLink} and keyed by the CID the host gave it. Packets to a guest
 * go down that guest's link, chosen by destination CID.
 *
 * <p>What vhost checks, this checks (drivers/vhost/vsock.c):
 * <ul>
 *   <li>A guest's packet is accepted only with src_cid = that guest's CID and dst_cid = 2; anything
 *       else is dropped and counted (vhost_vsock_handle_tx_kick), never answered. With
 *       {@code forwardSiblings}, a packet for another guest of this host is passed to that guest
 *       instead, as rust-vmm's vhost-device-vsock does for sibling VMs; the kernel has no such path.</li>
 *   <li>Sending to a CID no guest has fails: vhost_transport_send_pkt returns ENODEV and so does
 *       connect() ({@link #reaches}). A reply to a gone guest is dropped.</li>
 *   <li>SEQPACKET to a guest is allowed when that guest's link negotiated it
 *       (vhost_transport_seqpacket_allow); to an unknown CID it is not, so such a connect fails with
 *       ESOCKTNOSUPPORT before the ENODEV check, as in vsock_assign_transport.</li>
 *   <li>Guest CIDs follow vhost_vsock_set_cid: above 2, not U32_MAX (EINVAL), not this host's own CID
 *       as a nested guest (vsock_find_cid), not already running (EADDRINUSE).</li>
 * </ul>
 * When a guest's link goes down, its connections get ECONNRESET (vhost_vsock_reset_orphans).
 *
 * <p>Threads: {@link #send} and {@link #attach} from any thread. Each guest link delivers on its own
 * thread; a lock passes the packets into the machine one at a time, as the transport contract asks.
 */
public final class HostTransport implements Transport {
    private final String name;
    private final boolean forwardSiblings;
    private final Map<Integer, Guest> guests = new ConcurrentHashMap<>();
    /** Held while a guest's packet is in the machine's receive path. */
    private final ReentrantLock deliveryLock = new ReentrantLock();
    private final AtomicLong dropped = new AtomicLong();
    private volatile PacketReceiver receiver;
    /** The host machine's own CID (vsock_find_cid for CIDs above 2); ANY until started. */
    private volatile int hostCid = VsockAddress.CID_ANY;
    private volatile boolean closed;

    /**
     * @param name for thread names and messages
     * @param forwardSiblings pass packets between guests of this host (vhost-device-vsock groups)
     */
    public HostTransport(String name, boolean forwardSiblings) {
        this.name = name;
        this.forwardSiblings = forwardSiblings;
    }

    private record Guest(int cid, PacketLink link, boolean seqpacket) {
    }

    @Override
    public TransportRole role() {
        return TransportRole.H2G;
    }

    @Override
    public int localCid() {
        return VsockAddress.CID_HOST;
    }

    @Override
    public boolean supports(SocketType type) {
        return true;
    }

    @Override
    public boolean supports(SocketType type, int remoteCid) {
        if (type == SocketType.STREAM) {
            return true;
        }
        Guest g = guests.get(remoteCid);
        return g != null && g.seqpacket();
    }

    @Override
    public boolean reaches(int remoteCid) {
        return guests.containsKey(remoteCid);
    }

    @Override
    public void start(PacketReceiver machine) {
        if (receiver != null) {
            throw new IllegalStateException("host transport " + name + " already started");
        }
        if (machine instanceof SocketProvider provider) {
            hostCid = provider.localCid();
        }
        receiver = machine;
    }

    /**
     * Runs a guest on {@code link} with CID {@code guestCid}: starts delivering its packets. Call once
     * the host machine is built.
     *
     * @param seqpacket whether the guest negotiated VIRTIO_VSOCK_F_SEQPACKET
     * @throws IOException EINVAL for a reserved CID, EADDRINUSE for a CID in use or the host's own
     */
    public void attach(int guestCid, PacketLink link, boolean seqpacket) throws IOException {
        PacketReceiver machine = receiver;
        if (machine == null || closed) {
            throw new IllegalStateException("host transport " + name + " is not running");
        }
        checkGuestCid(guestCid);
        Guest g = new Guest(guestCid, link, seqpacket);
        if (guests.putIfAbsent(guestCid, g) != null) {
            throw Errno.EADDRINUSE.exception("guest CID " + VsockAddress.cidToString(guestCid) + " is already running on " + name);
        }
        link.start(new PacketLink.Receiver() {
            @Override
            public void packet(Packet p) {
                fromGuest(g, p);
            }

            @Override
            public void down(String reason) {
                if (guests.remove(guestCid, g)) {
                    machine.transportReset(HostTransport.this, guestCid);
                }
            }
        });
    }

    /** vhost_vsock_set_cid's checks, except the one for a CID in use (done atomically by the caller). */
    public void checkGuestCid(int guestCid) throws IOException {
        if (!CidRules.isGuestCid(guestCid)) {
            throw Errno.EINVAL.exception("guest CID " + VsockAddress.cidToString(guestCid) + " is reserved");
        }
        if (guestCid == hostCid) {
            throw Errno.EADDRINUSE.exception("guest CID " + VsockAddress.cidToString(guestCid)
                    + " is the host's own (a nested guest may not reuse its CID)");
        }
    }

    /** A guest in this JVM: a {@link MemoryLink} whose other end is the returned guest's G2H transport. */
    public GuestTransport attachInMemory(int guestCid) throws IOException {
        MemoryLink[] ends = MemoryLink.pair(name + "-cid" + Integer.toUnsignedString(guestCid));
        try {
            attach(guestCid, ends[0], true);
        } catch (IOException | RuntimeException e) {
            ends[0].close();
            throw e;
        }
        return new GuestTransport(ends[1], guestCid, true);
    }

    /** Stops a guest: its link goes down and its connections are reset. */
    public void detach(int guestCid) {
        Guest g = guests.get(guestCid);
        if (g != null) {
            g.link().close();
        }
    }

    /** The CIDs of the running guests, in order. */
    public SortedSet<Integer> guestCids() {
        TreeSet<Integer> cids = new TreeSet<>(Integer::compareUnsigned);
        cids.addAll(guests.keySet());
        return cids;
    }

    private void fromGuest(Guest g, Packet p) {
        if (p.srcCid != Integer.toUnsignedLong(g.cid())) {
            dropped.incrementAndGet(); // a guest may only speak for itself
            return;
        }
        if (p.dstCid == VsockAddress.CID_HOST) {
            deliveryLock.lock();
            try {
                receiver.receive(this, p);
            } finally {
                deliveryLock.unlock();
            }
            return;
        }
        Guest sibling = forwardSiblings ? guestFor(p.dstCid) : null;
        if (sibling != null && sibling != g) {
            sibling.link().send(p);
        } else {
            dropped.incrementAndGet();
        }
    }

    private Guest guestFor(long dstCid) {
        return (dstCid >>> 32) == 0 ? guests.get((int) dstCid) : null;
    }

    @Override
    public void send(Packet packet) {
        Guest g = guestFor(packet.dstCid);
        if (g == null) {
            dropped.incrementAndGet(); // the guest is gone: vhost frees the packet
            return;
        }
        g.link().send(packet);
    }

    /** Packets dropped: wrongly addressed by a guest, or for a guest that is not running. */
    public long droppedPackets() {
        return dropped.get();
    }

    @Override
    public void close() {
        closed = true;
        for (Guest g : guests.values()) {
            g.link().close();
        }
        guests.clear();
    }

    @Override
    public String toString() {
        return "h2g " + name + " (CID 2, guests " + guestCids() + ")";
    }
}
