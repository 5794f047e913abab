package io.vsock4j.core;

import io.vsock4j.MessageInfo;
import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.engine.Connection;
import io.vsock4j.engine.ConnectionState;
import io.vsock4j.engine.Packet;
import io.vsock4j.engine.VirtioVsock;
import io.vsock4j.spi.Errno;
import io.vsock4j.spi.Interruption;
import io.vsock4j.spi.SocketHandle;
import io.vsock4j.spi.Transport;

import java.io.IOException;
import java.net.SocketException;
import java.net.SocketOption;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.Future;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A socket of a {@link Machine}: what af_vsock.c does above the transport. It binds through the
 * machine's port table, picks a transport by the routing rules, and once connected hands every data
 * call to its {@link Connection}; a listening socket turns REQUESTs into accepted connections.
 *
 * <p>Threads: any thread may call the socket methods; the transport's delivery thread calls
 * {@link #onPacket} for packets addressed to the bound port. All state is guarded by {@link #lock},
 * which the socket's connection shares; blocked callers wait on conditions of that lock and never
 * hold it while blocked.
 */
final class EngineSocket implements SocketHandle {
    private final Machine machine;
    private final SocketType type;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when the accept queue gains a connection or the listener closes. */
    private final Condition acceptable = lock.newCondition();

    // Guarded by lock.
    private VsockAddress bound;
    private boolean listening;
    private int backlog;
    private ArrayDeque<EngineSocket> acceptQueue;
    private Connection connection;
    private boolean closed;
    private long bufferSize = VsockOptions.DEFAULT_BUFFER_SIZE_BYTES;
    private long bufferMinSize = VsockOptions.DEFAULT_BUFFER_MIN_SIZE_BYTES;
    private long bufferMaxSize = VsockOptions.DEFAULT_BUFFER_MAX_SIZE_BYTES;
    private Duration connectTimeout = VsockOptions.DEFAULT_CONNECT_TIMEOUT;
    private int rcvLowat = 1;

    EngineSocket(Machine machine, SocketType type) {
        this.machine = machine;
        this.type = type;
    }

    @Override
    public SocketType type() {
        return type;
    }

    // ------------------------------------------------------------------------------------------------
    // bind, connect, listen, accept

    @Override
    public void bind(VsockAddress local) throws IOException {
        lock.lock();
        try {
            checkOpen();
            if (bound != null) {
                throw Errno.EINVAL.exception("socket already bound to " + bound);
            }
            machine.bind(this, local);
        } finally {
            lock.unlock();
        }
    }

    /** Called by the port table, under its lock, with ours held. */
    void boundTo(VsockAddress address) {
        bound = address;
    }

    @Override
    public void connect(VsockAddress remote, long timeoutNanos) throws IOException {
        lock.lock();
        try {
            checkOpen();
            if (connection != null) {
                ConnectionState s = connection.state();
                if (s == ConnectionState.CONNECTING) {
                    throw Errno.EALREADY.exception("connect to " + connection.remote() + " in progress");
                }
                throw Errno.EISCONN.exception("already connected to " + connection.remote());
            }
            if (listening) {
                throw Errno.EINVAL.exception("connect on a listening socket " + bound);
            }
            Transport transport = machine.route(remote, type);
            if (bound == null) {
                machine.bind(this, VsockAddress.any());
            }
            VsockAddress local = VsockAddress.of(transport.localCid(), bound.port());
            Connection c = new Connection(lock, new Owner(), transport, type, local, remote, bufferSize);
            c.setRcvLowat(rcvLowat);
            connection = c;
            try {
                c.connect(timeoutNanos > 0 ? timeoutNanos : connectTimeout.toNanos());
            } catch (IOException | RuntimeException e) {
                if (connection == c && !(e instanceof ClosedByInterruptException) && !closed) {
                    connection = null; // a failed connect may be retried, as in the kernel
                }
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void listen(int requestedBacklog) throws IOException {
        lock.lock();
        try {
            checkOpen();
            if (bound == null) {
                throw Errno.EINVAL.exception("listen on an unbound socket");
            }
            if (connection != null) {
                throw Errno.EINVAL.exception("listen on a connected socket " + bound);
            }
            backlog = Math.max(0, requestedBacklog);
            if (!listening) {
                listening = true;
                acceptQueue = new ArrayDeque<>();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public SocketHandle accept(long timeoutNanos) throws IOException {
        lock.lock();
        try {
            checkOpen();
            if (!listening) {
                throw Errno.EINVAL.exception("accept on a socket that is not listening");
            }
            long remaining = timeoutNanos;
            while (acceptQueue.isEmpty()) {
                if (timeoutNanos > 0 && remaining <= 0) {
                    throw Errno.EAGAIN.exception("accept on " + bound + " timed out");
                }
                try {
                    remaining = timeoutNanos > 0 ? acceptable.awaitNanos(remaining) : awaitForever();
                } catch (InterruptedException e) {
                    throw Interruption.closeSocket(this::close, e);
                }
                checkOpen();
            }
            return acceptQueue.poll();
        } finally {
            lock.unlock();
        }
    }

    private long awaitForever() throws InterruptedException {
        acceptable.await();
        return Long.MAX_VALUE;
    }

    /**
     * A packet for our bound port that no connection claimed (virtio_transport_recv_pkt's bound-socket
     * path). Runs on the transport's delivery thread.
     *
     * @return false when the machine should answer RST
     */
    boolean onPacket(Transport from, Packet p, SocketType packetType) {
        lock.lock();
        try {
            if (closed || packetType != type) {
                return false;
            }
            if (listening) {
                return onRequest(from, p);
            }
            // A connecting client finds its RESPONSE (or RST) here: it is not a connected socket yet.
            Connection c = connection;
            if (c != null && c.state() == ConnectionState.CONNECTING && c.transport() == from
                    && c.remote().sameEndpoint(p.source())) {
                c.onPacket(p);
                return true;
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** virtio_transport_recv_listen: a REQUEST becomes a connection in the accept queue, or RST. */
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
        EngineSocket child = new EngineSocket(machine, type);
        child.inheritFrom(this);
        child.bound = local;
        Connection c = new Connection(child.lock, child.new Owner(), from, type, local, remote, child.bufferSize);
        c.setRcvLowat(child.rcvLowat);
        child.connection = c;
        machine.addConnected(c);
        c.acceptRequest(p);
        acceptQueue.add(child);
        acceptable.signalAll();
        return true;
    }

    private void inheritFrom(EngineSocket parent) {
        bufferSize = parent.bufferSize;
        bufferMinSize = parent.bufferMinSize;
        bufferMaxSize = parent.bufferMaxSize;
        connectTimeout = parent.connectTimeout;
        rcvLowat = parent.rcvLowat;
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

    @Override
    public void shutdown(int how) throws IOException {
        connected("shutdown").shutdown(how);
    }

    @Override
    public int available() throws IOException {
        Connection c = connectedOrNull();
        return c == null ? 0 : c.queuedBytes();
    }

    @Override
    public int unacknowledged() throws IOException {
        Connection c = connectedOrNull();
        return c == null ? 0 : c.unacknowledgedBytes();
    }

    private Connection connected(String what) throws IOException {
        lock.lock();
        try {
            checkOpen();
            if (connection == null || connection.state() == ConnectionState.CONNECTING) {
                throw Errno.ENOTCONN.exception(what + " on a socket that is not connected"
                        + (bound == null ? "" : " (bound to " + bound + ")"));
            }
            return connection;
        } finally {
            lock.unlock();
        }
    }

    private Connection connectedOrNull() throws IOException {
        lock.lock();
        try {
            checkOpen();
            return connection;
        } finally {
            lock.unlock();
        }
    }

    /** The engine's view of this socket's connection, or null (demo and tests read its credit). */
    Connection connection() {
        lock.lock();
        try {
            return connection;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // State and options

    @Override
    public VsockAddress localAddress() {
        lock.lock();
        try {
            return connection != null && connection.state() != ConnectionState.CLOSED ? connection.local() : bound;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public VsockAddress remoteAddress() {
        lock.lock();
        try {
            return connection == null ? null : connection.remote();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean isConnected() {
        lock.lock();
        try {
            if (connection == null) {
                return false;
            }
            ConnectionState s = connection.state();
            return s == ConnectionState.ESTABLISHED || s == ConnectionState.CLOSING;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(SocketOption<T> option) throws IOException {
        lock.lock();
        try {
            checkOpen();
            Object value;
            if (option == VsockOptions.BUFFER_SIZE) {
                value = bufferSize;
            } else if (option == VsockOptions.BUFFER_MIN_SIZE) {
                value = bufferMinSize;
            } else if (option == VsockOptions.BUFFER_MAX_SIZE) {
                value = bufferMaxSize;
            } else if (option == VsockOptions.CONNECT_TIMEOUT) {
                value = connectTimeout;
            } else if (option == VsockOptions.SO_RCVLOWAT) {
                value = rcvLowat;
            } else {
                throw Errno.ENOPROTOOPT.exception(option.name());
            }
            return (T) value;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public <T> void setOption(SocketOption<T> option, T value) throws IOException {
        lock.lock();
        try {
            checkOpen();
            if (value == null) {
                throw Errno.EINVAL.exception(option.name() + " = null");
            }
            if (option == VsockOptions.BUFFER_SIZE) {
                updateBufferSize(unsigned(option, (Long) value));
            } else if (option == VsockOptions.BUFFER_MIN_SIZE) {
                bufferMinSize = unsigned(option, (Long) value);
                updateBufferSize(bufferSize);
            } else if (option == VsockOptions.BUFFER_MAX_SIZE) {
                bufferMaxSize = unsigned(option, (Long) value);
                updateBufferSize(bufferSize);
            } else if (option == VsockOptions.CONNECT_TIMEOUT) {
                Duration d = (Duration) value;
                if (d.isNegative() || d.isZero()) {
                    throw Errno.EINVAL.exception(option.name() + " = " + d + " (must be positive)");
                }
                connectTimeout = d;
            } else if (option == VsockOptions.SO_RCVLOWAT) {
                int lowat = (Integer) value;
                if (lowat < 0 || lowat > bufferSize) {
                    throw Errno.EINVAL.exception("SO_RCVLOWAT " + lowat + " outside 0.." + bufferSize + " (the buffer size)");
                }
                rcvLowat = Math.max(1, lowat);
                if (connection != null) {
                    connection.setRcvLowat(rcvLowat);
                }
            } else {
                throw Errno.ENOPROTOOPT.exception(option.name());
            }
        } finally {
            lock.unlock();
        }
    }

    private static long unsigned(SocketOption<?> option, long value) throws IOException {
        if (value < 0) {
            throw Errno.EINVAL.exception(option.name() + " = " + value + " (negative)");
        }
        return value;
    }

    /** vsock_update_buffer_size: clamp into [min, max], then tell the connection. */
    private void updateBufferSize(long requested) {
        long size = requested;
        if (size > bufferMaxSize) {
            size = bufferMaxSize;
        }
        if (size < bufferMinSize) {
            size = bufferMinSize;
        }
        size = Math.min(size, VirtioVsock.MAX_BUF_SIZE_BYTES);
        bufferSize = size;
        if (connection != null) {
            connection.setBufferSize(size);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // close

    @Override
    public void close() {
        ArrayDeque<EngineSocket> orphans = null;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            acceptable.signalAll();
            if (listening) {
                orphans = acceptQueue;
                acceptQueue = new ArrayDeque<>();
            }
            if (connection != null && connection.state() != ConnectionState.CLOSED) {
                connection.release(); // unbinds through Owner.finished when the protocol is over
            } else {
                if (connection != null) {
                    connection.release();
                }
                unbindLocked();
            }
        } finally {
            lock.unlock();
        }
        if (orphans != null) {
            for (EngineSocket child : orphans) {
                child.close(); // the kernel releases queued children with their listener
            }
        }
    }

    private void unbindLocked() {
        if (bound != null && (connection == null || connection.state() == ConnectionState.CLOSED)) {
            // An accepted child never held a port-table entry; unbinding it is a no-op.
            machine.unbind(this, bound);
        }
    }

    private void checkOpen() throws SocketException {
        if (closed) {
            throw new SocketException("Socket closed");
        }
    }

    @Override
    public String toString() {
        return "EngineSocket[" + type + " " + (bound == null ? "unbound" : bound) + (listening ? " listening" : "")
                + (connection == null ? "" : " -> " + connection.remote()) + "]";
    }

    /** The machine's side of this socket's connection. */
    private final class Owner implements Connection.Owner {
        @Override
        public void established(Connection c) {
            machine.addConnected(c);
        }

        @Override
        public void finished(Connection c) {
            machine.removeConnected(c);
            if (closed) {
                unbindLocked();
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

        @Override
        public void sending(Connection c, Packet p) {
            machine.sending(c.transport(), p);
        }
    }
}
