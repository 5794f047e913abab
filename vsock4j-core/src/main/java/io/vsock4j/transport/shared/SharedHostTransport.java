package io.vsock4j.transport.shared;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;
import io.vsock4j.wire.Packet;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The H2G transport of a process of a shared machine: this process as the host (CID 2) of the guests a
 * device process on the same machine serves ({@code vsock device}, {@link GuestRelay}). There is no link
 * of its own: packets go down the process's one link to the daemon, which its
 * {@link SharedLoopbackTransport} owns and which hands this transport the guests' packets and the
 * daemon's word on which guests are served. One link keeps one set of ports for the process, whatever
 * the CID, as the kernel's port table is.
 *
 * <p>A guest no device serves is unreachable (connect fails with ENODEV, as vhost's send_pkt does for a
 * CID no guest has); a guest that stops being served, or whose VMM left (the device's RESET), has its
 * connections reset.
 *
 * <p>Threads: {@link #send} and {@link #reaches} from any thread; the rest on the link's reader thread.
 */
final class SharedHostTransport implements Transport {
    private final SharedLoopbackTransport local;
    private final AtomicLong dropped = new AtomicLong();
    private volatile PacketReceiver receiver;
    /** The guest CIDs served on the machine, as the daemon last said. Replaced whole, never changed. */
    private volatile Set<Integer> guests = Set.of();

    SharedHostTransport(SharedLoopbackTransport local) {
        this.local = local;
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
    public boolean reaches(int remoteCid) {
        return local.downReason() == null && guests.contains(remoteCid);
    }

    @Override
    public void start(PacketReceiver packetReceiver) {
        if (receiver != null) {
            throw new IllegalStateException(this + " already started");
        }
        receiver = packetReceiver;
    }

    @Override
    public void send(Packet packet) {
        local.send(packet);
    }

    /** A guest's packet to CID 2. */
    void arrived(Packet p) {
        PacketReceiver r = receiver;
        if (r == null) {
            dropped.incrementAndGet(); // before the machine was built, nothing here can be addressed
            return;
        }
        r.receive(this, p);
    }

    /** The daemon's list of served guests: the ones no longer in it lose their connections. */
    void guests(int[] cids) {
        Set<Integer> now = new HashSet<>();
        Arrays.stream(cids).forEach(now::add);
        Set<Integer> before = guests;
        guests = Set.copyOf(now);
        for (int cid : before) {
            if (!now.contains(cid)) {
                reset(cid);
            }
        }
    }

    /** A guest's VMM left (its device said RESET), or it is no longer served. */
    void reset(int cid) {
        PacketReceiver r = receiver;
        if (r != null) {
            r.transportReset(this, cid);
        }
    }

    /** The link to the daemon is gone: every guest connection resets. */
    void linkDown() {
        guests = Set.of();
        reset(VsockAddress.CID_ANY);
    }

    /** Guests' packets that arrived before the machine was built. */
    long droppedPackets() {
        return dropped.get();
    }

    /** The link belongs to the LOCAL transport, which closes it. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "shared-host " + local.machineName() + " (CID 2, guests " + guests.stream().sorted().toList() + ")";
    }
}
