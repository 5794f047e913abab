package io.vsock4j.core;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.engine.Connection;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.wire.VirtioVsockHeader;
import io.vsock4j.spi.Errno;
import io.vsock4j.spi.PortRegistry;
import io.vsock4j.SocketHandle;
import io.vsock4j.SocketProvider;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A vsock machine: one CID space with its table of bound and connected sockets, and up to one packet
 * transport per role (H2G, G2H, LOCAL), as Linux's vsock core holds them. Sockets opened here run the
 * Java engine; the machine routes each connection to a transport by the rules in {@link Routing} and
 * hands every arriving packet to the connection or listener it is addressed to.
 *
 * <p>Who calls what: any thread opens sockets and uses them; each transport's delivery thread calls
 * {@link #receive} (through the machine's {@link TappedTransport} for it, which shows every packet to
 * the taps first); one timer thread, started on first need, runs close timeouts. Tables are concurrent
 * or synchronized. Lock order: a socket's monitor, then a connection's lock, then the port table's; the
 * port table calls nobody, and a connection's owner callbacks never take a socket's monitor. {@link #close()} closes the transports and stops the timer: no thread of
 * the machine outlives it. A machine shared with other processes asks its {@link PortRegistry} before a
 * bind, holding the socket's monitor but not the port table's lock.
 */
public final class Machine implements SocketProvider, AutoCloseable {
    /**
     * Sees every packet the machine sends and receives (capture, the demo). Called on the sending or
     * delivering thread. The packet is lent for the call: its payload array may be reused once the call
     * returns ({@link io.vsock4j.wire.PayloadPool}), so a tap that keeps bytes copies them.
     */
    @FunctionalInterface
    public interface PacketTap {
        void onPacket(boolean outbound, Transport transport, Packet packet);
    }

    private final String name;
    /** The transports as built, by role. */
    private final Map<TransportRole, Transport> transports;
    /** The same, as the machine's connections and receive path see them (taps included). */
    private final Map<TransportRole, TappedTransport> tapped = new EnumMap<>(TransportRole.class);
    private final Routing.Slots slots;
    private final PortTable ports;
    /** Why this machine's port space is gone ({@link #portSpaceLost}), or null while it is there. */
    private volatile String portSpaceLost;
    /** Ports shared with other processes of this machine, or null when the port space is this JVM's alone. */
    private final PortRegistry registry;
    private final ConcurrentHashMap<ConnectionKey, Connection> connected = new ConcurrentHashMap<>();
    private final Object timerLock = new Object();
    /** Guarded by timerLock; created on first use. */
    private ScheduledThreadPoolExecutor timer;
    private static final PacketTap[] NO_TAPS = {};
    /** Copy-on-write under tapLock; read without a lock on every packet. */
    private volatile PacketTap[] taps = NO_TAPS;
    private final Object tapLock = new Object();
    private volatile boolean closed;
    private final long closeTimeoutNanos;

    private Machine(Builder b) {
        this.name = b.name;
        this.closeTimeoutNanos = b.closeTimeout.toNanos();
        this.transports = Collections.unmodifiableMap(new EnumMap<>(b.transports));
        Transport g2h = transports.get(TransportRole.G2H);
        this.slots = new Routing.Slots(transports.containsKey(TransportRole.H2G), g2h != null,
                g2h == null ? VsockAddress.CID_ANY : g2h.localCid(), transports.containsKey(TransportRole.LOCAL));
        this.ports = new PortTable(b.mayBindReserved);
        this.registry = b.registry;
        for (Transport t : transports.values()) {
            tapped.put(t.role(), new TappedTransport(t, this));
        }
        for (TappedTransport t : tapped.values()) {
            t.start();
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a machine; the transports are started by {@link #build}. */
    public static final class Builder {
        private String name = "machine";
        private final Map<TransportRole, Transport> transports = new EnumMap<>(TransportRole.class);
        private boolean mayBindReserved = Privileges.canBindReservedPorts();
        private java.time.Duration closeTimeout = java.time.Duration.ofNanos(VirtioVsock.CLOSE_TIMEOUT_NANOS);
        private PortRegistry registry;

        public Builder name(String machineName) {
            this.name = Objects.requireNonNull(machineName);
            return this;
        }

        /** Fills the transport's role; a second transport for the same role is refused, as in the kernel. */
        public Builder transport(Transport transport) {
            if (transports.putIfAbsent(transport.role(), transport) != null) {
                throw new IllegalArgumentException("machine " + name + " already has a " + transport.role()
                        + " transport (the kernel's EBUSY)");
            }
            return this;
        }

        /** Whether sockets may bind ports up to 1023; by default, whether this process has CAP_NET_BIND_SERVICE. */
        public Builder mayBindReservedPorts(boolean allowed) {
            this.mayBindReserved = allowed;
            return this;
        }

        /** How long a closed socket waits for its peer's RST before sending its own; 8 s as in Linux. */
        public Builder closeTimeout(java.time.Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("close timeout must be positive: " + timeout);
            }
            this.closeTimeout = timeout;
            return this;
        }

        /** Makes the port space machine-wide across processes: every bind also asks {@code portRegistry}. */
        public Builder portRegistry(PortRegistry portRegistry) {
            this.registry = Objects.requireNonNull(portRegistry);
            return this;
        }

        public Machine build() {
            return new Machine(this);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // SocketProvider

    @Override
    public SocketHandle open(SocketType type) throws IOException {
        if (closed) {
            throw new IOException("machine " + name + " is closed");
        }
        return new EngineSocket(this, Objects.requireNonNull(type));
    }

    @Override
    public int localCid() {
        return Routing.localCid(slots);
    }

    @Override
    public String name() {
        return name;
    }

    public Routing.Slots slots() {
        return slots;
    }

    /** The transport in a slot, as the machine was built with it, or null. */
    public Transport transport(TransportRole role) {
        return transports.get(role);
    }

    /**
     * Adds a packet tap: it sees every packet this machine sends and receives. Taps cost one volatile
     * read and an empty loop per packet when there are none.
     */
    public void addTap(PacketTap tap) {
        synchronized (tapLock) {
            PacketTap[] grown = java.util.Arrays.copyOf(taps, taps.length + 1);
            grown[grown.length - 1] = Objects.requireNonNull(tap);
            taps = grown;
        }
    }

    /** Removes a tap added before; unknown taps are ignored. */
    public void removeTap(PacketTap tap) {
        synchronized (tapLock) {
            taps = java.util.Arrays.stream(taps).filter(t -> t != tap).toArray(PacketTap[]::new);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Routing and binding, for EngineSocket.

    /**
     * The transport a connection to {@code remote} uses: ENODEV for an empty slot or a CID the transport
     * cannot reach (vhost: no such guest), ESOCKTNOSUPPORT for SEQPACKET where it is not allowed.
     */
    Transport route(VsockAddress remote, SocketType type) throws IOException {
        TransportRole role = Routing.connectRole(slots, remote.cid(), remote.flags());
        TappedTransport t = tapped.get(role);
        if (t == null) {
            throw Errno.ENODEV.exception("no " + role + " transport on machine " + name + " for " + remote.describe());
        }
        if (!t.supports(type, remote.cid())) {
            throw Errno.ESOCKTNOSUPPORT.exception(type + " over the " + role + " transport of " + name
                    + " to " + remote.describe());
        }
        if (!t.reaches(remote.cid())) {
            throw Errno.ENODEV.exception("CID " + VsockAddress.cidToString(remote.cid()) + " is not reachable over "
                    + role + " transport " + t + " of " + name);
        }
        return t;
    }

    VsockAddress bind(EngineSocket socket, VsockAddress local) throws IOException {
        if (!Routing.canBind(slots, local.cid())) {
            throw Errno.EADDRNOTAVAIL.exception("CID " + VsockAddress.cidToString(local.cid())
                    + " is not a CID of machine " + name + " (local CID " + VsockAddress.cidToString(localCid()) + ")");
        }
        if (registry == null) {
            return ports.bind(socket, local.cid(), local.port());
        }
        // Ask the other processes outside the table's lock: their answer comes on a delivery thread
        // that needs that lock to deliver anything. EACCES first, so a refused bind asks nobody.
        ports.checkPrivilege(local.port());
        int port = registry.reserve(local.port());
        try {
            return ports.bind(socket, local.cid(), port);
        } catch (IOException | RuntimeException e) {
            registry.release(port);
            throw e;
        }
    }

    void unbind(EngineSocket socket, VsockAddress local) {
        if (ports.unbind(socket, local) && registry != null) {
            registry.release(local.port());
        }
    }

    /**
     * A socket begins to listen at {@code local}: every transport whose CID that is (ANY: every one) is
     * told, and if one refuses, those told before are told it closed and the listen fails.
     */
    void listening(SocketType type, VsockAddress local) throws IOException {
        String lost = portSpaceLost;
        if (lost != null) {
            throw Errno.ENODEV.exception("listen on " + local + ": the machine's port space is gone: " + lost);
        }
        List<Transport> told = new ArrayList<>();
        try {
            for (Transport t : transports.values()) {
                if (local.cid() == VsockAddress.CID_ANY || local.cid() == t.localCid()) {
                    t.listening(type, local.port());
                    told.add(t);
                }
            }
        } catch (IOException | RuntimeException e) {
            for (Transport t : told) {
                t.listenerClosed(type, local.port());
            }
            throw e;
        }
    }

    /** The listener of {@link #listening} closed. */
    void listenerClosed(SocketType type, VsockAddress local) {
        for (Transport t : transports.values()) {
            if (local.cid() == VsockAddress.CID_ANY || local.cid() == t.localCid()) {
                t.listenerClosed(type, local.port());
            }
        }
    }

    /** A connection begins to use its local port; with a registry, that is a hold on the port. */
    void addConnected(Connection c) {
        if (connected.put(ConnectionKey.of(c), c) == null && registry != null) {
            registry.hold(c.local().port());
        }
    }

    void removeConnected(Connection c) {
        if (connected.remove(ConnectionKey.of(c), c) && registry != null) {
            registry.release(c.local().port());
        }
    }

    long closeTimeoutNanos() {
        return closeTimeoutNanos;
    }

    Future<?> schedule(Runnable task, long delayNanos) {
        synchronized (timerLock) {
            if (timer == null) {
                timer = new ScheduledThreadPoolExecutor(1, r -> {
                    Thread t = new Thread(r, "vsock4j-timer-" + name);
                    t.setDaemon(true);
                    return t;
                });
                timer.setRemoveOnCancelPolicy(true);
                timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            }
            return timer.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Shows a packet to every tap; {@code transport} is the one the machine was built with. */
    void tap(boolean outbound, Transport transport, Packet p) {
        for (PacketTap tap : taps) {
            tap.onPacket(outbound, transport, p);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // The receive path (virtio_transport_recv_pkt): one call per arriving packet, on the transport's thread.

    /** Delivers a packet that arrived on {@code from} to the connection or listener it addresses. */
    void receive(TappedTransport from, Packet p) {
        SocketType type = SocketType.fromVirtio(p.type);
        if (type == null || VirtioVsockHeader.validate(p) != null) {
            resetNoSocket(from, p);
            return;
        }
        Connection c = connected.get(ConnectionKey.ofArriving(p));
        if (c != null) {
            if (c.transport() != from || c.type() != type) {
                resetNoSocket(from, p);
            } else {
                c.onPacket(p);
            }
            return;
        }
        EngineSocket bound = ports.find((int) p.dstCid, p.dstPort);
        if (bound == null || !bound.onPacket(from, p, type)) {
            resetNoSocket(from, p);
        }
    }

    /** virtio_transport_reset_no_sock: answer with RST, addresses swapped; never answer an RST. */
    private void resetNoSocket(Transport via, Packet cause) {
        if (cause.op == VirtioVsock.OP_RST) {
            return;
        }
        via.send(Packet.resetFor(cause)); // moved by the delivery path this runs on, as Connection.onPacket's answers
    }

    /**
     * The engine connection under a socket of some machine, or null when the socket is not an engine
     * socket or not connected: for tools and tests that show credit and queue state.
     */
    public static Connection connectionOf(SocketHandle handle) {
        return handle instanceof EngineSocket s ? s.connection() : null;
    }

    /**
     * A link went down: every connection over {@code from} to {@code remoteCid} (CID_ANY: to any peer)
     * gets ECONNRESET and nothing is sent. Connecting sockets are left to their timeout, as the kernel
     * resets only connected ones (vsock_for_each_connected_socket).
     */
    void transportReset(TappedTransport from, int remoteCid) {
        for (Connection c : connected.values()) {
            if (c.transport() == from && (remoteCid == VsockAddress.CID_ANY || c.remote().cid() == remoteCid)) {
                c.transportReset();
            }
        }
    }

    /** As {@link #transportReset}, for the connections to one peer port only (its process died). */
    void portReset(TappedTransport from, int remoteCid, int remotePort) {
        for (Connection c : connected.values()) {
            if (c.transport() == from && c.remote().cid() == remoteCid && c.remote().port() == remotePort) {
                c.transportReset();
            }
        }
    }

    /**
     * The port space of this machine's registry is gone (its shared machine's daemon died): every listener
     * fails its accepts from now on, with ENODEV naming {@code reason}. Nothing can reach them again.
     */
    void portSpaceLost(String reason) {
        portSpaceLost = reason;
        for (EngineSocket s : ports.sockets()) {
            s.listenerLost(Errno.ENODEV.exception("the machine's port space is gone: " + reason));
        }
    }

    /**
     * Whether {@link #close()} has begun: no socket opens any more, and a call that failed because its
     * socket was closed under it failed because the machine went (a shared machine's JVM exiting).
     */
    public boolean isClosed() {
        return closed;
    }

    /** Connected sockets (tests check that nothing leaks). */
    public int connectionCount() {
        return connected.size();
    }

    /** Connected sockets over one transport (the demo shows which transport carries what). */
    public int connectionCount(Transport via) {
        int n = 0;
        for (Connection c : connected.values()) {
            if (TappedTransport.unwrap(c.transport()) == TappedTransport.unwrap(via)) {
                n++;
            }
        }
        return n;
    }

    /** Bound sockets (tests check that ports are freed). */
    public int boundCount() {
        return ports.size();
    }

    /**
     * Closes every socket of this machine as its own {@code close()} would, as the kernel closes a
     * process's sockets when it exits: a listener frees its port, a connected socket sends SHUTDOWN
     * after what it wrote and waits for its peer in the background, a connect in progress fails. The
     * machine stays up; {@link #close()} takes it down (and calls this first on a machine shared with
     * other processes). A shared machine's member process does this when its JVM exits
     * ({@code SharedMachine}), since there the other end outlives the process.
     */
    public void closeSockets() {
        for (Connection c : connected.values()) {
            c.closeSocket();
        }
        for (EngineSocket s : ports.sockets()) {
            s.close();
        }
    }

    /**
     * Closes the transports and the timer. Sockets still open see their transport go quiet, as when a
     * kernel goes away: their connections reset. A machine whose port space it shares with other
     * processes ({@link Builder#portRegistry}) is this process's view of one that goes on without it, so
     * leaving it is the process's exit: its sockets first close as the kernel closes an exiting
     * process's ({@link #closeSockets}), and their peers read what was written, then EOF.
     */
    @Override
    public void close() {
        closed = true;
        if (registry != null) {
            closeSockets();
        }
        for (Connection c : connected.values()) {
            c.transportReset();
        }
        for (Transport t : transports.values()) {
            t.close();
        }
        synchronized (timerLock) {
            if (timer != null) {
                timer.shutdownNow();
            }
        }
    }

    @Override
    public String toString() {
        return "Machine[" + name + ", local CID " + VsockAddress.cidToString(localCid()) + ", " + transports.keySet() + "]";
    }

    /**
     * How the kernel finds a connected socket (vsock_find_connected_socket): by the peer's CID and port
     * and our port. Our CID is left out, as the kernel leaves it out: it is the one the socket bound,
     * possibly ANY.
     */
    private record ConnectionKey(int remoteCid, int remotePort, int localPort) {
        static ConnectionKey of(Connection c) {
            return new ConnectionKey(c.remote().cid(), c.remote().port(), c.local().port());
        }

        static ConnectionKey ofArriving(Packet p) {
            return new ConnectionKey((int) p.srcCid, p.srcPort, p.dstPort);
        }
    }
}
