package io.vsock4j.transport.hybrid;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The H2G transport of a host whose guests run under Firecracker or Cloud Hypervisor: there is no
 * vhost-vsock, and each guest's vsock is a Unix socket the VMM serves (hybrid vsock). Built from a
 * table guest CID -> that socket's path, it gives a {@link io.vsock4j.core.Machine} (local CID 2) the
 * ordinary socket API towards those guests:
 * <pre>{@code
 * Machine host = Machine.builder().transport(new HybridClientTransport(Map.of(3, Path.of("/run/vm3.vsock")))).build();
 * VsockSocket s = VsockSocket.connect(host, VsockAddress.of(3, 5000));      // CONNECT 5000 / OK n underneath
 * VsockServerSocket l = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 52)); // serves /run/vm3.vsock_52
 * }</pre>
 * A hybrid socket is a byte stream, the engine speaks packets: each connection's {@link ClientConnection}
 * plays the guest's side of the virtio-vsock protocol (handshake, credit both ways, shutdowns, resets)
 * over its Unix socket; {@link HostPortSockets} serves {@code <uds_path>_P} while a JVM socket listens on
 * port P. STREAM only, as in both VMMs.
 *
 * <p>Connect outcomes: OK gives a connection; a VMM that closes without OK (no guest listener), does not
 * accept, or answers anything but {@code OK <n>} within 32 bytes resets it (ECONNRESET, the last one
 * logged as a warning); a VMM that stays silent leaves the engine to its connect timeout (ETIMEDOUT),
 * and the socket is closed after {@code handshakeTimeout}. A CID not in the table is ENODEV.
 *
 * <p>Threads: {@link #send} from any thread only finds the connection and queues. Every packet for the
 * engine goes through one delivery queue and its platform thread ("hybrid-client deliver"), so packets
 * arrive one at a time and in the order they were queued, stamped with the connection's credit as they
 * leave. Each connection has two virtual threads and each port file one; all are this transport's
 * {@link Workers} and end with their connection, their listener, or {@link #close}.
 */
public final class HybridClientTransport implements Transport {
    private static final System.Logger LOG = System.getLogger(HybridClientTransport.class.getName());
    /** How long a VMM may take to answer CONNECT before its socket is closed, by default. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    private static final long JOIN_MILLIS = 10_000;
    /** Made-up ports for guest-opened connections start here (Firecracker's own range for host ports). */
    private static final int FIRST_MADE_UP_PORT = 1 << 30;

    /** A connection as the engine names it: the guest's CID and port, and the engine's port. */
    record Key(int cid, int remotePort, int localPort) {
        /** The key of a packet the engine sends. */
        static Key ofSent(Packet p) {
            return new Key((int) p.dstCid, p.dstPort, p.srcPort);
        }
    }

    /** A packet for the engine and the connection whose credit it carries (null for a stray's RST). */
    private record Delivery(ClientConnection from, Packet packet) {
    }

    private static final Delivery STOP = new Delivery(null, null);

    private final Map<Integer, Path> guests;
    private final long handshakeTimeoutNanos;
    private final Workers workers = new Workers();
    private final Map<Key, ClientConnection> connections = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
    private final HostPortSockets portSockets;
    private volatile PacketReceiver receiver;
    private volatile boolean closed;
    /** Guarded by this. */
    private int nextMadeUpPort = FIRST_MADE_UP_PORT;

    /** Guests by CID, each at the Unix socket its VMM serves ({@code uds_path}). */
    public HybridClientTransport(Map<Integer, Path> guests) {
        this(guests, DEFAULT_HANDSHAKE_TIMEOUT);
    }

    /**
     * @param handshakeTimeout how long a VMM may take to answer CONNECT; give connects with a longer
     *                         CONNECT_TIMEOUT at least as long
     */
    public HybridClientTransport(Map<Integer, Path> guests, Duration handshakeTimeout) {
        TreeMap<Integer, Path> table = new TreeMap<>(Integer::compareUnsigned);
        guests.forEach((cid, path) -> table.put(cid, path.toAbsolutePath()));
        this.guests = Collections.unmodifiableMap(table);
        this.handshakeTimeoutNanos = handshakeTimeout.toNanos();
        this.portSockets = new HostPortSockets(this.guests, workers, this::fromVmm);
    }

    /** The table: guest CID to its VMM's socket. */
    public Map<Integer, Path> guests() {
        return guests;
    }

    @Override
    public TransportRole role() {
        return TransportRole.H2G;
    }

    @Override
    public boolean supports(SocketType type) {
        return type == SocketType.STREAM;
    }

    @Override
    public boolean reaches(int remoteCid) {
        return !closed && guests.containsKey(remoteCid);
    }

    @Override
    public void start(PacketReceiver packetReceiver) {
        if (receiver != null) {
            throw new IllegalStateException(this + " already started");
        }
        receiver = packetReceiver;
        workers.platform("hybrid-client deliver", this::deliveryLoop);
    }

    // ------------------------------------------------------------------------------------------------
    // Engine to VMM

    @Override
    public void send(Packet p) {
        if (closed) {
            return;
        }
        Key key = Key.ofSent(p);
        if (p.op == VirtioVsock.OP_REQUEST) {
            dial(key, p);
            return;
        }
        ClientConnection c = connections.get(key);
        if (c != null) {
            c.fromEngine(p);
        } else if (p.op != VirtioVsock.OP_RST) {
            deliver(null, Packet.resetFor(p)); // no such connection (any more): as the kernel answers
        }
    }

    private void dial(Key key, Packet request) {
        Path path = guests.get(key.cid());
        if (path == null || request.type != VirtioVsock.TYPE_STREAM) {
            deliver(null, Packet.resetFor(request));
            return;
        }
        ClientConnection old = connections.remove(key);
        if (old != null) {
            old.end(); // the engine gave up on it (a connect timed out) and dials again from the same port
        }
        ClientConnection c;
        try {
            c = ClientConnection.dial(this, key, request, path, handshakeTimeoutNanos);
        } catch (IOException e) {
            LOG.log(DEBUG, "hybrid-client: no Unix socket for a connect to {0}: {1}", request.destination(), e.getMessage());
            deliver(null, Packet.resetFor(request));
            return;
        }
        connections.put(key, c);
        c.start(workers);
    }

    // ------------------------------------------------------------------------------------------------
    // VMM to engine

    /** A guest dialled host port {@code port}: its VMM connected to {@code <uds_path>_port}. */
    private void fromVmm(int guestCid, int port, SocketChannel unix) {
        ClientConnection c;
        synchronized (this) {
            if (closed) {
                closeQuietly(unix);
                return;
            }
            Key key;
            do {
                int made = nextMadeUpPort++;
                if (nextMadeUpPort < 0 || nextMadeUpPort == VsockAddress.PORT_ANY) {
                    nextMadeUpPort = FIRST_MADE_UP_PORT;
                }
                key = new Key(guestCid, made, port);
            } while (connections.containsKey(key));
            c = ClientConnection.accepted(this, key, unix);
            connections.put(key, c);
        }
        c.start(workers);
    }

    /** Queues {@code p} for the engine; {@code from} stamps its credit as it leaves. */
    void deliver(ClientConnection from, Packet p) {
        if (!closed) {
            deliveries.add(new Delivery(from, p));
        }
    }

    private void deliveryLoop() {
        while (true) {
            Delivery d;
            try {
                d = deliveries.take();
            } catch (InterruptedException e) {
                return;
            }
            if (d == STOP) {
                return;
            }
            if (d.from() != null) {
                d.from().stamp(d.packet());
            }
            try {
                receiver.receive(this, d.packet());
            } catch (RuntimeException | Error e) {
                Thread t = Thread.currentThread();
                t.getUncaughtExceptionHandler().uncaughtException(t, e); // one bad packet must not stop the rest
            }
        }
    }

    /** Connection {@code c} ended: forget it. */
    void removed(ClientConnection c) {
        connections.remove(c.key, c);
    }

    // ------------------------------------------------------------------------------------------------
    // Listening

    @Override
    public void listening(SocketType type, int port) throws IOException {
        if (type == SocketType.STREAM && !closed) {
            portSockets.open(port);
        }
    }

    @Override
    public void listenerClosed(SocketType type, int port) {
        if (type == SocketType.STREAM) {
            portSockets.close(port);
        }
    }

    // ------------------------------------------------------------------------------------------------

    /** Connections open now (tests: zero once they all ended). */
    int connectionCount() {
        return connections.size();
    }

    /** Whether {@link #close} has begun (tests). */
    boolean isClosed() {
        return closed;
    }

    /** Threads of this transport still running (tests: the delivery thread alone when idle, zero after close). */
    int threadCount() {
        return workers.count();
    }

    /**
     * Closes every connection and port file and waits for the threads. Idempotent. A connection first
     * writes out what the engine sent it, for up to {@link VirtioVsock#CLOSE_TIMEOUT_NANOS} (the kernel's VSOCK_CLOSE_TIMEOUT) in all: a program that
     * wrote its last bytes and closed its machine (as {@code vsock nc} does before it exits) expects
     * them to arrive, as they do from a kernel socket closed right after its last write.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        portSockets.closeAll();
        long deadline = System.nanoTime() + VirtioVsock.CLOSE_TIMEOUT_NANOS;
        boolean interrupted = false;
        for (ClientConnection c : connections.values()) {
            try {
                if (!interrupted && !c.awaitWritten(deadline)) {
                    LOG.log(WARNING, "hybrid-client: the VMM did not take the last bytes of {0} before the close; they are dropped",
                            c.key);
                }
            } catch (InterruptedException e) {
                interrupted = true; // close at once, keep the status for the caller
            }
            c.end();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        deliveries.clear();
        deliveries.add(STOP);
        workers.join(JOIN_MILLIS);
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // Released either way.
        }
    }

    @Override
    public String toString() {
        return "hybrid-client (CID 2, guests " + guests + ")";
    }
}
