package io.vsock4j.transport.link;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.engine.Packet;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The G2H transport of a guest machine over one {@link PacketLink} to its host: what virtio-vsock is
 * in a Linux guest. Its CID is the one the host gave the guest (virtio config space guest_cid); every
 * packet it sends carries that CID as source, and everything not for this machine goes to the host.
 *
 * <p>Arriving packets are checked before the engine sees them: the destination must be this guest's
 * CID and the source must not be (a host never speaks for its guest). Others are dropped and counted,
 * as vhost drops a guest's wrongly addressed packets. When the link goes down, every connection over it
 * gets ECONNRESET, as on virtio's TRANSPORT_RESET event.
 *
 * <p>Threads: {@link #send} from any thread; delivery on the link's thread.
 */
public final class GuestTransport implements Transport {
    private final PacketLink link;
    private final int cid;
    private final boolean seqpacket;
    private final AtomicLong dropped = new AtomicLong();
    private volatile String downReason;

    /**
     * @param cid the CID the host assigned (3 or above, not ANY)
     * @param seqpacket whether the host negotiated VIRTIO_VSOCK_F_SEQPACKET
     */
    public GuestTransport(PacketLink link, int cid, boolean seqpacket) {
        if (!CidRules.isGuestCid(cid)) {
            throw new IllegalArgumentException("guest CID " + VsockAddress.cidToString(cid) + " is reserved");
        }
        this.link = link;
        this.cid = cid;
        this.seqpacket = seqpacket;
    }

    @Override
    public TransportRole role() {
        return TransportRole.G2H;
    }

    @Override
    public int localCid() {
        return cid;
    }

    @Override
    public boolean supports(SocketType type) {
        return type == SocketType.STREAM || seqpacket;
    }

    /** Once the link is down there is no host to reach: connect fails with ENODEV, as with no G2H loaded. */
    @Override
    public boolean reaches(int remoteCid) {
        return downReason == null;
    }

    @Override
    public void start(PacketReceiver receiver) {
        link.start(new PacketLink.Receiver() {
            @Override
            public void packet(Packet p) {
                if (p.dstCid != Integer.toUnsignedLong(cid) || p.srcCid == Integer.toUnsignedLong(cid)) {
                    dropped.incrementAndGet();
                    return;
                }
                receiver.receive(GuestTransport.this, p);
            }

            @Override
            public void down(String reason) {
                downReason = reason;
                receiver.transportReset(GuestTransport.this, VsockAddress.CID_ANY);
            }
        });
    }

    @Override
    public void send(Packet packet) {
        link.send(packet);
    }

    /** Packets from the host that were not addressed to this guest, dropped. */
    public long droppedPackets() {
        return dropped.get();
    }

    /** Why the link went down, or null while it is up. */
    public String downReason() {
        return downReason;
    }

    @Override
    public void close() {
        link.close();
    }

    @Override
    public String toString() {
        return "g2h (CID " + VsockAddress.cidToString(cid) + ") over " + link;
    }
}
