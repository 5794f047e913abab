package io.vsock4j.spi;

import io.vsock4j.SocketType;
import io.vsock4j.engine.Packet;

/**
 * A packet transport: the narrow interface where the Java engine meets a medium (the in-JVM loopback,
 * a link to another machine, a virtqueue). The engine hands it packets to send; it hands the engine the
 * packets that arrive. It knows nothing about connections.
 *
 * <p>Threads: {@link #send} is called by any thread, often while the caller holds a connection's lock,
 * so it must not block for long: queue the packet and return. The engine then calls {@link #flush}
 * from the same thread once its state change is complete; a transport may use that thread to move
 * the queued packets (the Java loopback delivers them there), or ignore it and deliver from threads of
 * its own. Either way arriving packets reach the {@link PacketReceiver} given to {@link #start} one at a
 * time per transport, in the order they were sent.
 */
public interface Transport extends AutoCloseable {
    /** The slot this transport fills. */
    TransportRole role();

    /** The CID this machine has on this transport: the source CID of every packet it sends. */
    int localCid();

    /** Whether connections of this type may use this transport (SEQPACKET needs VIRTIO_VSOCK_F_SEQPACKET). */
    boolean supports(SocketType type);

    /**
     * Whether a connection of this type to {@code remoteCid} may use this transport: the kernel asks
     * seqpacket_allow(remote_cid), and vhost answers per guest (false for a CID no guest has).
     */
    default boolean supports(SocketType type, int remoteCid) {
        return supports(type);
    }

    /**
     * Whether a packet for {@code remoteCid} has somewhere to go. A host transport answers false for a
     * CID no running guest owns: vhost_transport_send_pkt fails with ENODEV, and so does connect().
     */
    default boolean reaches(int remoteCid) {
        return true;
    }

    /** Begins delivering arriving packets to {@code receiver}. Called once, by the machine. */
    void start(PacketReceiver receiver);

    /**
     * Queues a packet for the peer. After the call the transport owns the packet and its payload array.
     * A packet sent after {@link #close} is dropped.
     */
    void send(Packet packet);

    /**
     * Gives the transport the calling thread to move queued packets. Called by the engine after it
     * queued packets and finished the state change that produced them, possibly still holding the
     * sending connection's lock; never while a receive is in progress on this transport's delivery
     * path unless the transport itself is delivering. The default does nothing.
     */
    default void flush() {
    }

    /** Stops delivery and frees the transport's threads. Idempotent. */
    @Override
    void close();

    /** Where a transport delivers arriving packets. */
    @FunctionalInterface
    interface PacketReceiver {
        /** Called on the transport's delivery thread; takes ownership of the packet. */
        void receive(Transport from, Packet packet);

        /**
         * The link under {@code from} to the peer {@code remoteCid} (CID_ANY: to every peer) is gone:
         * its connections fail with ECONNRESET, as on virtio's TRANSPORT_RESET event or a vhost device
         * released by its VMM. Called once per lost link, on any thread.
         */
        default void transportReset(Transport from, int remoteCid) {
        }

        /**
         * The peer at {@code remoteCid:remotePort} behind {@code from} is gone without a word (the process
         * that owned the port died): its connections fail with ECONNRESET and nothing is sent. Called on
         * the transport's delivery thread.
         */
        default void portReset(Transport from, int remoteCid, int remotePort) {
        }
    }
}
