package io.vsock4j.transport.link;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.wire.Packet;
import io.vsock4j.spi.TransportRole;

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
 * <p>Threads: {@link #send} from any thread; delivery on the link's thread ({@link LinkTransport}).
 */
public final class GuestTransport extends LinkTransport {
    private final int cid;
    private final boolean seqpacket;

    /**
     * @param cid the CID the host assigned (3 or above, not ANY)
     * @param seqpacket whether the host negotiated VIRTIO_VSOCK_F_SEQPACKET
     */
    public GuestTransport(PacketLink link, int cid, boolean seqpacket) {
        super(link);
        if (!CidRules.isGuestCid(cid)) {
            throw new IllegalArgumentException("guest CID " + VsockAddress.cidToString(cid) + " is reserved");
        }
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

    /** The destination must be this guest and the source must not be: vhost's check, from the other side. */
    @Override
    protected void arrived(Packet p) {
        if (p.dstCid != Integer.toUnsignedLong(cid) || p.srcCid == Integer.toUnsignedLong(cid)) {
            drop();
            return;
        }
        deliver(p);
    }

    @Override
    public String toString() {
        return "g2h (CID " + VsockAddress.cidToString(cid) + ") over " + link();
    }
}
