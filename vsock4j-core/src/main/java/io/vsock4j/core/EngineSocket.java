package io.vsock4j.core;

import io.vsock4j.MessageInfo;
import io.vsock4j.Readiness;
import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.engine.Connection;
import io.vsock4j.engine.ConnectionState;
import io.vsock4j.spi.Errno;
import io.vsock4j.spi.Interruption;
import io.vsock4j.SocketHandle;
import io.vsock4j.spi.Transport;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import java.io.IOException;
import java.net.SocketException;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A socket of a {@link Machine}: what af_vsock.c does above the transport. It binds through the
 * machine's port table, picks a transport by the routing rules, and once connected hands every data
 * call to its {@link Connection}; a listening socket turns REQUESTs into accepted connections.
 *
 * <h2>State</h2>
 * One {@link SocketState} that only moves forward (UNBOUND, BOUND, then LISTENING or CONNECTING and
 * CONNECTED, and CLOSED at the end), with one exception the kernel has too: a failed connect goes back
 * from CONNECTING to BOUND, so it may be retried.
 *
 * <h2>Threads and locks</h2>
 * Any thread may call the socket methods; the transport's delivery thread calls {@link #onPacket} for
 * packets addressed to the bound port. The socket's own state is guarded by its monitor
 * ({@code synchronized (this)}), held only for short state changes and while an {@code accept} waits on
 * it (which lets it go). Nothing blocks while holding it except bind, whose port reservation on a
 * shared machine is a round trip to the daemon (only calls on this socket wait for it). The connection has
 * its own lock; this socket never calls into its connection while holding the monitor, except to hand
 * an accepted child's brand-new connection its REQUEST. {@link #state} is volatile so the connection's
 * owner callbacks, which run under the connection's lock, can ask whether the socket is closed, and
 * {@link #bound} for where, without taking the monitor.
 *
 * <h2>Readiness</h2>
 * The {@link Readiness.Listener} is handed to each connection this socket gets (which tells it on every
 * wake-up), and told here when a listener's accept queue grows, when it can accept no more, and on close.
 * A listener is called while this socket's monitor (or a connection's lock) is held, which its contract
 * allows for: it only records and wakes.
 */
final class EngineSocket implements SocketHandle {
    /** Where a socket is in its life; see the class comment for the order. */
    enum SocketState { UNBOUND, BOUND, LISTENING, CONNECTING, CONNECTED, CLOSED }

    private final Machine machine;
    private final SocketType type;

    // Written under the monitor; volatile for the owner callbacks (see the class comment).
    private volatile SocketState state = SocketState.UNBOUND;
    private volatile VsockAddress bound;
    // Guarded by the monitor.
    private Connection connection;
    /** Accepted children not yet taken; while LISTENING. */
    private ArrayDeque<EngineSocket> acceptQueue;
    private int backlog;
    /** Why accepts fail from now on (the machine's port space is gone), or null. Guarded by this. */
    private IOException listenerFailure;
    private SocketSettings settings;
    /** Written under the monitor; volatile so the callers of {@link #tellListener} need not take it. */
    private volatile Readiness.Listener readinessListener;

    EngineSocket(Machine machine, SocketType type) {
        this(machine, type, SocketSettings.DEFAULTS);
    }

    private EngineSocket(Machine machine, SocketType type, SocketSettings settings) {
        this.machine = machine;
        this.type = type;
        this.settings = settings;
    }

    @Override
    public SocketType type() {
        return type;
    }

    // ------------------------------------------------------------------------------------------------
    // bind, connect, listen, accept

    @Override
    public synchronized void bind(VsockAddress local) throws IOException {
        checkOpen();
        if (state != SocketState.UNBOUND) {
            throw Errno.EINVAL.exception("socket already bound to " + bound);
        }
        bound = machine.bind(this, local);
        state = SocketState.BOUND;
    }

    @Override
    public void connect(VsockAddress remote, long timeoutNanos) throws IOException {
        Connection c;
        long timeout;
        synchronized (this) {
            c = beginConnect(remote);
            timeout = connectTimeout(timeoutNanos);
        }
        try {
            c.connect(timeout);
        } catch (IOException | RuntimeException e) {
            connectFailed(c);
            throw e;
        }
        connectSucceeded(c);
    }

    @Override
    public void startConnect(VsockAddress remote, long timeoutNanos) throws IOException {
        Connection c;
        long timeout;
        synchronized (this) {
            c = beginConnect(remote);
            timeout = connectTimeout(timeoutNanos);
        }
        try {
            c.startConnect(timeout);
        } catch (RuntimeException e) {
            connectFailed(c);
            throw e;
        }
    }

    @Override
    public boolean finishConnect() throws IOException {
        Connection c;
        synchronized (this) {
            checkOpen();
            if (state == SocketState.CONNECTED) {
                return true;
            }
            if (state != SocketState.CONNECTING) {
                throw Errno.ENOTCONN.exception("finishConnect on a socket with no connect started"
                        + (bound == null ? "" : " (bound to " + bound + ")"));
            }
            c = connection;
        }
        try {
            if (!c.finishConnect()) {
                return false;
            }
        } catch (IOException | RuntimeException e) {
            connectFailed(c);
            throw e;
        }
        connectSucceeded(c);
        return true;
    }

    /** Under the monitor: checks, routes, binds if unbound, and makes the CONNECTING socket's connection. */
    private Connection beginConnect(VsockAddress remote) throws IOException {
        checkOpen();
        switch (state) {
            case CONNECTING -> throw Errno.EALREADY.exception("connect to " + connection.remote() + " in progress");
            case CONNECTED -> throw Errno.EISCONN.exception("already connected to " + connection.remote());
            case LISTENING -> throw Errno.EINVAL.exception("connect on a listening socket " + bound);
            default -> { }
        }
        Transport transport = machine.route(remote, type);
        if (state == SocketState.UNBOUND) {
            bound = machine.bind(this, VsockAddress.any());
            state = SocketState.BOUND;
        }
        VsockAddress local = VsockAddress.of(transport.localCid(), bound.port());
        Connection c = newConnection(this, transport, local, remote);
        c.setReadinessListener(readinessListener);
        connection = c;
        state = SocketState.CONNECTING;
        return c;
    }

    private long connectTimeout(long timeoutNanos) {
        return timeoutNanos > 0 ? timeoutNanos : settings.connectTimeout().toNanos();
    }

    private synchronized void connectFailed(Connection c) {
        if (state == SocketState.CONNECTING && connection == c) {
            connection = null; // a failed connect may be retried, as in the kernel
            state = SocketState.BOUND;
        }
    }

    private synchronized void connectSucceeded(Connection c) {
        if (state == SocketState.CONNECTING && connection == c) {
            state = SocketState.CONNECTED;
        }
    }

    private Connection newConnection(EngineSocket owner, Transport transport, VsockAddress local, VsockAddress remote) {
        return new Connection(owner.new Owner(), transport, type, local, remote, owner.settings.bufferSizeBytes(),
                owner.settings.rcvLowatBytes());
    }

    @Override
    public synchronized void listen(int requestedBacklog) throws IOException {
        checkOpen();
        switch (state) {
            case UNBOUND -> throw Errno.EINVAL.exception("listen on an unbound socket");
            case CONNECTING, CONNECTED -> throw Errno.EINVAL.exception("listen on a connected socket " + bound);
            default -> { }
        }
        backlog = Math.max(0, requestedBacklog);
        if (state == SocketState.BOUND) {
            machine.listening(type, bound);
            acceptQueue = new ArrayDeque<>();
            state = SocketState.LISTENING;
        }
    }

    @Override
    public SocketHandle accept(long timeoutNanos) throws IOException {
        try {
            return awaitAccepted(timeoutNanos);
        } catch (InterruptedException e) {
            throw Interruption.closeSocket(this::close, e);
        }
    }

    private synchronized SocketHandle awaitAccepted(long timeoutNanos) throws IOException, InterruptedException {
        checkOpen();
        if (state != SocketState.LISTENING) {
            throw Errno.EINVAL.exception("accept on a socket that is not listening");
        }
        long deadline = System.nanoTime() + timeoutNanos;
        while (acceptQueue.isEmpty()) {
            if (listenerFailure != null) {
                throw listenerFailure;
            }
            if (timeoutNanos == 0) {
                wait();
            } else {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw Errno.EAGAIN.exception("accept on " + bound + " timed out");
                }
                TimeUnit.NANOSECONDS.timedWait(this, remaining);
            }
            checkOpen();
        }
        return acceptQueue.poll();
    }

    @Override
    public synchronized SocketHandle tryAccept() throws IOException {
        checkOpen();
        if (state != SocketState.LISTENING) {
            throw Errno.EINVAL.exception("accept on a socket that is not listening");
        }
        EngineSocket child = acceptQueue.poll();
        if (child == null && listenerFailure != null) {
            throw listenerFailure;
        }
        return child;
    }

    // ------------------------------------------------------------------------------------------------
    // Readiness

    @Override
    public int readyOps() {
        SocketState s;
        Connection c;
        boolean acceptable;
        synchronized (this) {
            s = state;
            c = connection;
            acceptable = s == SocketState.LISTENING && (!acceptQueue.isEmpty() || listenerFailure != null);
        }
        // The connection's lock is taken after the monitor is let go (the class comment's order).
        return switch (s) {
            case CLOSED -> Readiness.READABLE | Readiness.WRITABLE;
            case LISTENING -> acceptable ? Readiness.ACCEPTABLE : 0;
            case CONNECTING -> c.connectDone() ? Readiness.CONNECTED : 0;
            case CONNECTED -> c.readyOps();
            case UNBOUND, BOUND -> 0;
        };
    }

    @Override
    public void setReadinessListener(Readiness.Listener listener) {
        Connection c;
        synchronized (this) {
            readinessListener = listener;
            c = connection;
        }
        if (c != null) {
            c.setReadinessListener(listener);
        }
    }

    private void tellListener() {
        Readiness.Listener listener = readinessListener;
        if (listener != null) {
            listener.readinessChanged();
        }
    }

    /**
     * A packet for our bound port that no connection claimed (virtio_transport_recv_pkt's bound-socket
     * path). Runs on the transport's delivery thread.
     *
     * @return false when the machine should answer RST
     */
    boolean onPacket(Transport from, Packet p, SocketType packetType) {
        Connection connecting;
        synchronized (this) {
            if (packetType != type) {
                return false;
            }
            if (state == SocketState.LISTENING) {
                return onRequest(from, p);
            }
            if (state != SocketState.CONNECTING) {
                return false;
            }
            connecting = connection;
        }
        // A connecting client finds its RESPONSE (or RST) here: it is not a connected socket yet.
        if (connecting.transport() == from && connecting.remote().sameEndpoint(p.source())) {
            connecting.onPacket(p);
            return true;
        }
        return false;
    }

    /**
     * Nothing can reach this listener any more (see {@link Machine#portSpaceLost}): a waiting accept and
     * every later one that finds no queued child fail with {@code why}. Any thread; no-op unless listening.
     */
    synchronized void listenerLost(IOException why) {
        if (state == SocketState.LISTENING && listenerFailure == null) {
            listenerFailure = why;
            notifyAll();
            tellListener();
        }
    }

    /** virtio_transport_recv_listen, under the monitor: a REQUEST becomes an accepted child, or RST. */
    private boolean onRequest(Transport from, Packet p) {
        if (p.op != VirtioVsock.OP_REQUEST || acceptQueue.size() > backlog) {
            return false;
        }
        VsockAddress local = p.destination();
        VsockAddress remote = p.source().withFlags(Routing.listenFlags(local.cid(), (int) p.srcCid));
        Transport expected;
        try {
            expected = machine.route(remote, type);
        } catch (IOException noTransport) {
            return false;
        }
        if (expected != from) {
            // The route back must be the way the request came (the kernel checks the same).
            return false;
        }
        EngineSocket child = new EngineSocket(machine, type, settings);
        Connection c = newConnection(child, from, local, remote);
        child.bound = local;
        child.connection = c;
        child.state = SocketState.CONNECTED;
        machine.addConnected(c);
        c.acceptRequest(p);
        acceptQueue.add(child);
        notifyAll();
        tellListener();
        return true;
    }

    // ------------------------------------------------------------------------------------------------
    // Data: everything goes to the connection.

    @Override
    public int send(byte[] src, int off, int len, int flags, long timeoutNanos) throws IOException {
        return connected("send").send(src, off, len, flags, timeoutNanos);
    }

    @Override
    public int receive(byte[] dst, int off, int len, int flags, long timeoutNanos, MessageInfo info) throws IOException {
        return connected("receive").receive(dst, off, len, flags, timeoutNanos, info);
    }

    /** Copies straight between a direct buffer and the packets' payloads (no array in between). */
    @Override
    public int send(ByteBuffer src, int flags, long timeoutNanos) throws IOException {
        return connected("send").send(src, flags, timeoutNanos);
    }

    @Override
    public int receive(ByteBuffer dst, int flags, long timeoutNanos) throws IOException {
        return connected("receive").receive(dst, flags, timeoutNanos, null);
    }

    @Override
    public void shutdown(int how) throws IOException {
        connected("shutdown").shutdown(how);
    }

    @Override
    public int available() throws IOException {
        Connection c = connectionIfOpen();
        return c == null ? 0 : c.queuedBytes();
    }

    @Override
    public int unacknowledged() throws IOException {
        Connection c = connectionIfOpen();
        return c == null ? 0 : c.unacknowledgedBytes();
    }

    private synchronized Connection connected(String what) throws IOException {
        checkOpen();
        if (state != SocketState.CONNECTED) {
            throw Errno.ENOTCONN.exception(what + " on a socket that is not connected"
                    + (bound == null ? "" : " (bound to " + bound + ")"));
        }
        return connection;
    }

    private synchronized Connection connectionIfOpen() throws IOException {
        checkOpen();
        return connection;
    }

    /** The engine's view of this socket's connection, or null (demo and tests read its credit). */
    synchronized Connection connection() {
        return connection;
    }

    // ------------------------------------------------------------------------------------------------
    // Addresses, state and options

    @Override
    public VsockAddress localAddress() {
        Connection c;
        VsockAddress b;
        synchronized (this) {
            c = connection;
            b = bound;
        }
        return c != null && c.state().phase() != ConnectionState.Phase.CLOSED ? c.local() : b;
    }

    @Override
    public synchronized VsockAddress remoteAddress() {
        return connection == null ? null : connection.remote();
    }

    @Override
    public boolean isConnected() {
        Connection c;
        synchronized (this) {
            c = state == SocketState.CONNECTED ? connection : null;
        }
        return c != null && c.state().isConnected();
    }

    @Override
    public boolean isClosed() {
        return state == SocketState.CLOSED;
    }

    @Override
    @SuppressWarnings("unchecked")
    public synchronized <T> T getOption(SocketOption<T> option) throws IOException {
        checkOpen();
        return (T) settings.get(option);
    }

    @Override
    public <T> void setOption(SocketOption<T> option, T value) throws IOException {
        Connection c;
        SocketSettings now;
        synchronized (this) {
            checkOpen();
            settings = settings.with(option, value);
            now = settings;
            c = connection;
        }
        if (c == null) {
            return;
        }
        if (option == VsockOptions.SO_RCVLOWAT) {
            c.setRcvLowat(now.rcvLowatBytes());
        } else if (option == VsockOptions.BUFFER_SIZE || option == VsockOptions.BUFFER_MIN_SIZE
                || option == VsockOptions.BUFFER_MAX_SIZE) {
            c.setBufferSize(now.bufferSizeBytes());
        }
    }

    // ------------------------------------------------------------------------------------------------
    // close

    @Override
    public void close() {
        Connection c;
        ArrayDeque<EngineSocket> orphans;
        synchronized (this) {
            if (state == SocketState.CLOSED) {
                return;
            }
            orphans = state == SocketState.LISTENING ? acceptQueue : null;
            acceptQueue = null;
            c = connection;
            state = SocketState.CLOSED;
            notifyAll();
        }
        tellListener();
        // The connection unbinds us through Owner.finished once its protocol is over; without one, or
        // with one that is over already, the port goes now.
        if (orphans != null) {
            machine.listenerClosed(type, bound);
        }
        if (c == null || c.release()) {
            unbind();
        }
        if (orphans != null) {
            for (EngineSocket child : orphans) {
                child.close(); // the kernel releases queued children with their listener
            }
        }
    }

    /** Frees our port-table entry; a no-op for an accepted child, which never held one, and when done already. */
    private void unbind() {
        VsockAddress b = bound;
        if (b != null) {
            machine.unbind(this, b);
        }
    }

    private void checkOpen() throws SocketException {
        if (state == SocketState.CLOSED) {
            throw Errno.socketClosed();
        }
    }

    @Override
    public synchronized String toString() {
        return "EngineSocket[" + type + " " + (bound == null ? "unbound" : bound) + " " + state
                + (connection == null ? "" : " -> " + connection.remote()) + "]";
    }

    /** The machine's side of this socket's connection; called under the connection's lock. */
    private final class Owner implements Connection.Owner {
        @Override
        public void established(Connection c) {
            machine.addConnected(c);
        }

        @Override
        public void finished(Connection c) {
            machine.removeConnected(c);
            if (state == SocketState.CLOSED) {
                unbind();
            }
        }

        @Override
        public void closeSocket() {
            close();
        }

        @Override
        public Future<?> schedule(Runnable task, long delayNanos) {
            return machine.schedule(task, delayNanos);
        }

        @Override
        public long closeTimeoutNanos() {
            return machine.closeTimeoutNanos();
        }
    }
}
