package io.vsock4j.transport.link;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.spi.Errno;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;

import java.io.IOException;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
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
 *       instead when the two share a sibling group, as rust-vmm's vhost-device-vsock does for sibling
 *       VMs ({@code groups=}); the kernel has no such path.</li>
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
 * <p>Port redirects ({@link #redirectPort}) let a host listener stand in for host port P for one guest
 * only: that guest's packets to (2, P) are delivered to (2, Q), and what (2, Q) sends it leaves as from
 * (2, P). Hybrid vsock uses them so a guest's connect to P reaches its {@code <uds-path>_P} socket even
 * where another listener holds P for everyone else, as vhost-device-vsock does.
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
    private final PortRedirects redirects = new PortRedirects();
    private volatile PacketReceiver receiver;
    /** The host machine's own CID (vsock_find_cid for CIDs above 2); ANY until started. */
    private volatile boolean closed;

    /**
     * @param name for thread names and messages
     * @param forwardSiblings pass packets between guests of this host (vhost-device-vsock groups)
     */
    public HostTransport(String name, boolean forwardSiblings) {
        this.name = name;
        this.forwardSiblings = forwardSiblings;
    }

    /** The group a guest is in when its attach names none (vhost-device-vsock's default). */
    public static final Set<String> DEFAULT_GROUPS = Set.of("default");

    private record Guest(int cid, PacketLink link, boolean seqpacket, Set<String> groups) {
        boolean sharesGroupWith(Guest other) {
            return !Collections.disjoint(groups, other.groups);
        }
    }

    @Override
    public TransportRole role() {
        return TransportRole.H2G;
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
        attach(guestCid, link, seqpacket, DEFAULT_GROUPS);
    }

    /**
     * Runs a guest in the given sibling groups: with {@code forwardSiblings}, it reaches exactly the
     * guests that share a group with it.
     *
     * @throws IllegalArgumentException if {@code groups} is empty
     */
    public void attach(int guestCid, PacketLink link, boolean seqpacket, Set<String> groups) throws IOException {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("a guest needs at least one sibling group");
        }
        PacketReceiver machine = receiver;
        if (machine == null || closed) {
            throw new IllegalStateException("host transport " + name + " is not running");
        }
        checkGuestCid(guestCid);
        Guest g = new Guest(guestCid, link, seqpacket, Set.copyOf(groups));
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
                    redirects.forgetGuest(guestCid);
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
        PacketReceiver machine = receiver;
        if (machine != null && machine.ownsCid(guestCid)) {
            throw Errno.EADDRINUSE.exception("guest CID " + VsockAddress.cidToString(guestCid)
                    + " is the host's own (a nested guest may not reuse its CID)");
        }
    }

    /** A guest in this JVM: a {@link MemoryLink} whose other end is the returned guest's G2H transport. */
    public GuestTransport attachInMemory(int guestCid) throws IOException {
        return attachInMemory(guestCid, DEFAULT_GROUPS);
    }

    /** {@link #attachInMemory(int)} in the given sibling groups. */
    public GuestTransport attachInMemory(int guestCid, Set<String> groups) throws IOException {
        MemoryLink[] ends = MemoryLink.pair(name + "-cid" + Integer.toUnsignedString(guestCid));
        try {
            attach(guestCid, ends[0], true, groups);
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
            redirects.toHost(g.cid(), p);
            deliveryLock.lock();
            try {
                receiver.receive(this, p);
            } finally {
                deliveryLock.unlock();
            }
            return;
        }
        Guest sibling = forwardSiblings ? guestFor(p.dstCid) : null;
        if (sibling != null && sibling != g && sibling.sharesGroupWith(g)) {
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
        if (packet.srcCid == VsockAddress.CID_HOST) {
            redirects.toGuest(g.cid(), packet);
        }
        g.link().send(packet);
    }

    /**
     * From now on the connections guest {@code guestCid} opens to host port {@code hostPort} go to
     * {@code toPort} instead, and what {@code toPort} sends that guest leaves as from {@code hostPort}
     * ({@link PortRedirects}: a connection keeps its redirect until it ends).
     */
    public void redirectPort(int guestCid, int hostPort, int toPort) {
        redirects.redirect(guestCid, hostPort, toPort);
    }

    /** Ends {@link #redirectPort}'s redirect for new connections; open ones keep theirs until they end. */
    public void unredirectPort(int guestCid, int hostPort) {
        redirects.unredirect(guestCid, hostPort);
    }

    /** Redirected connections open now (tests). */
    int redirectedConnections() {
        return redirects.connectionCount();
    }

    /** Packets dropped: wrongly addressed by a guest (also to a sibling outside its groups), or for a guest that is not running. */
    public long droppedPackets() {
        return dropped.get();
    }

    @Override
    public void close() {
        closed = true;
        // One budget for all guests' queues, not one each: a host of many silent guests closes in 8 s.
        long deadline = System.nanoTime() + VirtioVsock.CLOSE_TIMEOUT_NANOS;
        for (Guest g : guests.values()) {
            g.link().closeBy(deadline);
        }
        guests.clear();
    }

    @Override
    public String toString() {
        return "h2g " + name + " (CID 2, guests " + guestCids() + ")";
    }
}
