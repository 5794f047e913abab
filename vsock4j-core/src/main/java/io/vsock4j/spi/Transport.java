package io.vsock4j.spi;

import io.vsock4j.SocketType;
import io.vsock4j.wire.Packet;

import java.io.IOException;

/**
 * A packet transport: the narrow interface where the Java engine meets a medium (the in-JVM loopback,
 * a link to another machine, a virtqueue). The engine hands it packets to send; it hands the engine the
 * packets that arrive. It knows nothing about connections.
 *
 * <p>Threads: {@link #send} is called by any thread, often while the caller holds a connection's lock,
 * so it must not block for long: queue the packet and return. A socket thread then calls {@link #flush}
 * once it has let go of every engine lock; a transport may use that thread to move the queued packets
 * (the Java loopback delivers them there), or ignore it and deliver from threads of its own. Packets
 * the engine sends while a packet is being delivered to it (answers, resets) are not flushed: the
 * delivering path moves them. Either way arriving packets reach the {@link PacketReceiver} given to
 * {@link #start} one at a time per transport, in the order they were sent.
 */
public interface Transport extends AutoCloseable {
    /** The slot this transport fills. */
    TransportRole role();

    /**
     * The CID this machine has on this transport: the source CID of every packet it sends. H2G and LOCAL
     * have their role's ({@link TransportRole#localCid}); a G2H transport says the CID its host gave it.
     */
    default int localCid() {
        return role().localCid();
    }

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

    /**
     * A socket of the machine now listens on {@code port} at a CID this transport answers to (its own or
     * ANY). A transport whose peers cannot find a listener by sending a REQUEST opens the way here:
     * hybrid vsock creates the Unix socket {@code <uds_path>_<port>} its VMM connects to. Called on the
     * listening thread under the socket's lock: must not block for long. The default does nothing.
     *
     * @throws IOException listen fails with it (EADDRINUSE when another process serves that port)
     */
    default void listening(SocketType type, int port) throws IOException {
    }

    /** The listener of an earlier {@link #listening} call closed: close what it opened. Never throws. */
    default void listenerClosed(SocketType type, int port) {
    }

    /** Begins delivering arriving packets to {@code receiver}. Called once, by the machine. */
    void start(PacketReceiver receiver);

    /**
     * Queues a packet for the peer. After the call the transport owns the packet and its payload array.
     * A packet sent after {@link #close} is dropped.
     */
    void send(Packet packet);

    /**
     * Gives the transport the calling thread to move queued packets. Called by a socket thread after it
     * queued packets, finished the state change that produced them and let go of every engine lock;
     * never from inside {@link PacketReceiver#receive}. The default does nothing.
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
         * Whether the machine behind this receiver answers to {@code cid} itself (its local CID): a host
         * transport refuses to give that CID to a guest, as vhost does with vsock_find_cid.
         */
        default boolean ownsCid(int cid) {
            return false;
        }

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

        /**
         * The machine-wide port space that {@code from} keeps for this machine is gone for good (a shared
         * machine's daemon died): no bound port of this machine can be reached again, so listeners fail
         * their accepts with ENODEV, as connects and binds through {@code from} do. Called once, on any thread.
         */
        default void portSpaceLost(Transport from, String reason) {
        }
    }
}
