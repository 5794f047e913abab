package io.vsock4j.transport.link;

import io.vsock4j.wire.Packet;

/**
 * One end of a point-to-point packet pipe between two machines: what a virtqueue pair is between a
 * guest's virtio driver and its host's vhost device. It carries whole virtio-vsock packets in order and
 * knows nothing of CIDs or connections; {@link GuestTransport} and {@link HostTransport} put the roles
 * and the checks on top.
 *
 * <p>Threads: {@link #send} from any thread, never blocking for long (it queues). Arriving packets and
 * the one {@link Receiver#down} call come from the link's own delivery thread.
 */
public interface PacketLink extends AutoCloseable {
    /** Begins delivery. Packets that arrived earlier were kept and are delivered first. Called once. */
    void start(Receiver receiver);

    /** Queues a packet for the other end; the link owns it afterwards. Dropped once the link is down. */
    void send(Packet packet);

    /**
     * Takes the link down (the other end sees {@link Receiver#down}), once what is queued has been
     * written, for as long as the link gives that. Idempotent.
     */
    @Override
    void close();

    /**
     * {@link #close}, giving what is queued until {@code deadlineNanos} ({@link System#nanoTime}) at most:
     * for closing many links within one budget. A link with no queue of its own closes at once.
     */
    default void closeBy(long deadlineNanos) {
        close();
    }

    /** What a link delivers to. */
    interface Receiver {
        /** A packet from the other end, in order. */
        void packet(Packet packet);

        /** The link is gone, for {@code reason}; called at most once, and nothing arrives after it. */
        void down(String reason);
    }
}
