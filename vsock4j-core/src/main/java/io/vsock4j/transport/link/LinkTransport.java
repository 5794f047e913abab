package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.spi.Transport;
import io.vsock4j.wire.Packet;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What every transport over one {@link PacketLink} does alike (a guest's G2H, a shared machine's
 * LOCAL): packets go out on the link; what arrives is checked by the subclass before the engine sees
 * it, and what fails the check is dropped and counted; when the link goes down nothing is reachable any
 * more (connect fails with ENODEV, as with no transport loaded) and every connection over it gets
 * ECONNRESET, as on virtio's TRANSPORT_RESET event. Designed for extension by the transports of this
 * module: a subclass says its role, CIDs and socket types, and judges arriving packets.
 *
 * <p>Threads: {@link #send} from any thread; {@link #arrived} and {@link #linkDown} on the link's
 * delivery thread, in order, and nothing arrives after the link went down.
 */
public abstract class LinkTransport implements Transport {
    private final PacketLink link;
    private final AtomicLong dropped = new AtomicLong();
    private volatile PacketReceiver receiver;
    private volatile String downReason;

    protected LinkTransport(PacketLink link) {
        this.link = link;
    }

    @Override
    public final void start(PacketReceiver packetReceiver) {
        if (receiver != null) {
            throw new IllegalStateException(this + " already started");
        }
        receiver = packetReceiver;
        link.start(new PacketLink.Receiver() {
            @Override
            public void packet(Packet p) {
                arrived(p);
            }

            @Override
            public void down(String reason) {
                downReason = reason;
                linkDown(reason);
                packetReceiver.transportReset(LinkTransport.this, VsockAddress.CID_ANY);
            }
        });
    }

    /**
     * A packet from the other end: pass it to {@link #deliver} or count it with {@link #drop}. On the
     * link's thread.
     */
    protected abstract void arrived(Packet p);

    /**
     * The link went down for {@code reason}: {@link #downReason()} already says so, and every connection
     * is reset right after this returns. Nothing to do by default.
     */
    protected void linkDown(String reason) {
    }

    /** Hands an arriving packet to the engine. */
    protected final void deliver(Packet p) {
        receiver.receive(this, p);
    }

    /** Where arriving packets go, once started (for the receiver's other events). */
    protected final PacketReceiver receiver() {
        return receiver;
    }

    /** Counts an arriving packet that failed the subclass's check. */
    protected final void drop() {
        dropped.incrementAndGet();
    }

    /** Once the link is down there is no peer to reach: connect fails with ENODEV. */
    @Override
    public final boolean reaches(int remoteCid) {
        return downReason == null;
    }

    @Override
    public final void send(Packet packet) {
        link.send(packet);
    }

    /** Arriving packets that failed the transport's check, dropped. */
    public final long droppedPackets() {
        return dropped.get();
    }

    /** Why the link went down, or null while it is up. */
    public final String downReason() {
        return downReason;
    }

    /** The link, for the subclass's {@link #toString()}. */
    protected final PacketLink link() {
        return link;
    }

    @Override
    public void close() {
        link.close();
    }
}
