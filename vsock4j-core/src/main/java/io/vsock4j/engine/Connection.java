package io.vsock4j.engine;

import io.vsock4j.MessageInfo;
import io.vsock4j.Readiness;
import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.spi.Errno;
import io.vsock4j.spi.Interruption;
import io.vsock4j.spi.Transport;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import java.io.IOException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One connection as its socket sees it: the blocking connect, send, receive, shutdown and close of
 * af_vsock.c over a {@link ConnectionProtocol}, which decides everything about packets.
 *
 * <h2>Threads and locks</h2>
 * Socket threads call {@link #connect}, {@link #send}, {@link #receive}, {@link #shutdown} and
 * {@link #release}, and may block; the transport's delivery thread calls {@link #onPacket}, which never
 * blocks; the machine's timer thread runs the close timeout. The protocol and everything else mutable is
 * guarded by the lock in {@link #wakeups}, which belongs to this connection alone and is never held
 * while taking another lock of the engine, nor while blocked: a waiting thread lets go of it
 * ({@link Wakeups}).
 *
 * <h2>Who delivers</h2>
 * Packets are handed to {@link Transport#send} under the lock, so the transport's queue order is the
 * protocol's order. A socket call then calls {@link Transport#flush} <em>after</em> letting go of the
 * lock: at its end, and before it waits. {@link #onPacket} never flushes: it runs on the transport's
 * delivery path, which moves what it queued. So a thread that delivers packets (the Java loopback's
 * flushing thread) never holds a connection's lock, and no cycle of lock waits can form.
 *
 * <h2>Copies outside the lock</h2>
 * The two bulk copies of a transfer run with the lock released: the writer's copy into a packet's payload
 * and the reader's copy out of the receive queue. Held, they would make the thread that delivers the next
 * packet (or a CREDIT_UPDATE) wait for the lock as long as a 64 KiB copy takes, and on a VM a thread that
 * parks on a lock pays the hypervisor's wake-up: the two sides of a transfer took turns instead of
 * overlapping (docs/benchmarks.md: 40 Gbit/s before, 62 after). So writers serialize in
 * {@link ConnectionSender} and readers in {@link ConnectionReceiver}, each held for the whole call and always taken before the lock: a
 * writer sizes its packet under the lock, copies, and takes the lock again to send; a reader claims bytes
 * under the lock ({@link ConnectionProtocol#claim}), copies, and takes it again to consume them.
 *
 * <h2>Readiness, for event loops</h2>
 * Every wake-up of a blocked reader or writer also tells the {@link Readiness.Listener}, if one is set,
 * on the same thread and under the lock: that is exactly when the ready set may have changed.
 * {@link #readyOps} answers what a MSG_DONTWAIT call would do now; {@link #startConnect} and
 * {@link #finishConnect} split a connect so nothing waits, its timeout then run by the machine's timer.
 *
 * <h2>Close and interrupt</h2>
 * {@link #release} (close) wakes every blocked call, which then throws "Socket closed". An interrupt of
 * a blocked call closes the socket, as an interrupted channel does, and throws
 * {@link java.nio.channels.ClosedByInterruptException}.
 */
public final class Connection {
    /** A copy at least this large (a payload, a head chunk) runs with the lock released; smaller ones are cheaper than the lock round trip. */
    static final int UNLOCKED_COPY_MIN_BYTES = 4096;

    /** What the machine does for a connection; called with the connection's lock held, so it must not block. */
    public interface Owner {
        /** The connection became ESTABLISHED by RESPONSE: make it findable by its endpoints. */
        void established(Connection connection);

        /** The connection is finished: forget it, free its port. */
        void finished(Connection connection);

        /** Closes the socket that owns this connection (an interrupted call does); called without the lock. */
        void closeSocket();

        /** Runs {@code task} once after {@code delayNanos} on a machine thread. */
        Future<?> schedule(Runnable task, long delayNanos);

        /** How long a closed socket waits for its peer to finish; {@link VirtioVsock#CLOSE_TIMEOUT_NANOS} unless configured. */
        default long closeTimeoutNanos() {
            return VirtioVsock.CLOSE_TIMEOUT_NANOS;
        }
    }

    private final Wakeups wakeups = new Wakeups();
    final ReentrantLock lock = wakeups.lock;
    /** The write side: serializes writers and copies into payloads with the lock released. */
    private final ConnectionSender sender = new ConnectionSender(this);
    /** The read side: serializes readers and copies out of the queue with the lock released. */
    private final ConnectionReceiver receiver = new ConnectionReceiver(this);
    private final Owner owner;
    private final Transport transport;
    /** Carries out what the protocol decides; also the flush a waiting thread runs before it waits. */
    private final ProtocolOutput output;
    /** Guarded by lock. */
    final ConnectionProtocol protocol;
    /** Guarded by lock; set while the close timeout is armed. */
    private Future<?> closeTimer;
    /** Guarded by lock; set while a non-blocking connect's timeout is armed. */
    private Future<?> connectTimer;
    /** Guarded by lock: a non-blocking connect ran out of time (its failure is ETIMEDOUT, not ECONNRESET). */
    private boolean connectTimedOut;
    /**
     * Told whenever a wake-up happens; null when none. Volatile: set by the socket's thread without the
     * lock, read under it by whoever wakes.
     */
    private volatile Readiness.Listener readinessListener;

    public Connection(Owner owner, Transport transport, SocketType type, VsockAddress local, VsockAddress remote,
                      long bufferSizeBytes, int rcvLowatBytes) {
        this.owner = owner;
        this.transport = transport;
        this.output = new ProtocolOutput();
        this.protocol = new ConnectionProtocol(output, type, local, remote, bufferSizeBytes, rcvLowatBytes);
    }

    /** Accepted by a listener from {@code request}: RESPONSE queued. Runs on the delivery path: no flush. */
    public void acceptRequest(Packet request) {
        lock.lock();
        try {
            protocol.acceptRequest(request);
        } finally {
            lock.unlock();
        }
    }

    /** Sends REQUEST and waits up to {@code timeoutNanos} (greater than 0) for the answer. */
    public void connect(long timeoutNanos) throws IOException {
        lock.lock();
        try {
            protocol.connect();
            long remaining = timeoutNanos;
            while (protocol.state().phase() == ConnectionState.Phase.CONNECTING) {
                if (remaining <= 0) {
                    protocol.connectTimedOut();
                    throw Errno.ETIMEDOUT.connectException("connect to " + remote() + " after "
                            + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
                }
                remaining = awaitReadable(remaining);
            }
            // Connected once RESPONSE came, even if the peer has ended the connection since (accepted and
            // closed before this thread woke): its reads report that. Failing here instead left the
            // connection, already in the machine's table, with no socket to release it.
            if (!protocol.state().isConnected()) {
                throw protocol.takeError(Errno.ECONNRESET).connectException("connect to " + remote());
            }
        } finally {
            unlockAndFlush();
        }
    }

    /**
     * A non-blocking connect: REQUEST sent, and the machine's timer armed to end the attempt with ETIMEDOUT
     * after {@code timeoutNanos} (greater than 0). Its end is reported as a wake-up; then
     * {@link #finishConnect} says how it went.
     */
    public void startConnect(long timeoutNanos) {
        lock.lock();
        try {
            protocol.connect();
            connectTimer = owner.schedule(this::connectTimerFired, timeoutNanos);
        } finally {
            unlockAndFlush();
        }
    }

    private void connectTimerFired() {
        lock.lock();
        try {
            if (protocol.state().phase() == ConnectionState.Phase.CONNECTING) {
                connectTimedOut = true;
                protocol.connectTimedOut();
                output.wakeReaders();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether a connect's answer came (or its time ran out): what {@link Readiness#CONNECTED} reports. */
    public boolean connectDone() {
        lock.lock();
        try {
            return protocol.state().phase() != ConnectionState.Phase.CONNECTING;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The end of {@link #startConnect}: false while CONNECTING, true once connected (even if the peer has
     * ended the connection since: its reads then report that), else the connect's failure.
     */
    public boolean finishConnect() throws IOException {
        lock.lock();
        try {
            checkNotReleased();
            ConnectionState.Phase phase = protocol.state().phase();
            if (phase == ConnectionState.Phase.CONNECTING) {
                return false;
            }
            cancelConnectTimer();
            if (protocol.state().isConnected()) {
                return true;
            }
            if (connectTimedOut) {
                throw Errno.ETIMEDOUT.connectException("connect to " + remote() + " timed out");
            }
            throw protocol.takeError(Errno.ECONNRESET).connectException("connect to " + remote());
        } finally {
            lock.unlock();
        }
    }

    private void cancelConnectTimer() {
        if (connectTimer != null) {
            connectTimer.cancel(false);
            connectTimer = null;
        }
    }

    /** Sets the listener every wake-up tells (null: none); see {@link Readiness.Listener}. */
    public void setReadinessListener(Readiness.Listener listener) {
        readinessListener = listener;
    }

    /**
     * The {@link Readiness} bits of a connected socket (READABLE, WRITABLE): what a MSG_DONTWAIT receive or
     * send would do now. A released connection reports both: its calls fail at once.
     */
    public int readyOps() {
        lock.lock();
        try {
            if (protocol.released() || protocol.state().phase() == ConnectionState.Phase.CLOSED) {
                // A transport reset leaves a connected socket's connection CLOSED: its reads end (EOF or
                // ECONNRESET) and its writes fail at once, and an event loop must be told so, as epoll's
                // EPOLLERR or EPOLLHUP wakes both.
                return Readiness.READABLE | Readiness.WRITABLE;
            }
            ConnectionState state = protocol.state();
            if (!state.isConnected()) {
                return 0;
            }
            int ops = 0;
            boolean readable = protocol.noMoreData() || protocol.receiveShut()
                    || (protocol.type() == SocketType.STREAM
                    ? protocol.queuedBytes() >= protocol.rcvLowat()
                    : protocol.queuedMessages() > 0);
            if (readable) {
                ops |= Readiness.READABLE;
            }
            if (!protocol.canSend() || protocol.txSpace() > 0) {
                ops |= Readiness.WRITABLE;
            }
            return ops;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // send

    /**
     * Sends bytes: for STREAM as many as credit allows, waiting for more; for SEQPACKET one message,
     * split into packets whose last carries SEQ_EOM (and SEQ_EOR with MSG_EOR). See {@link ConnectionSender}.
     *
     * @param timeoutNanos 0 waits forever; otherwise EAGAIN as a timeout, its bytesTransferred set
     * @return bytes sent, possibly fewer than {@code len} when the connection failed part way or with
     *         MSG_DONTWAIT
     */
    public int send(byte[] src, int off, int len, int flags, long timeoutNanos) throws IOException {
        return sender.send(ByteBuffer.wrap(src), off, len, flags, timeoutNanos);
    }

    /**
     * {@link #send(byte[], int, int, int, long)} from {@code src}'s remaining bytes, advancing its position
     * by what was sent. A direct buffer is copied straight into the packets' payloads, as an array is.
     */
    public int send(ByteBuffer src, int flags, long timeoutNanos) throws IOException {
        int start = src.position();
        int n = sender.send(src, start, src.remaining(), flags, timeoutNanos);
        src.position(start + n);
        return n;
    }

    // ------------------------------------------------------------------------------------------------
    // receive

    /**
     * Receives. STREAM: waits for SO_RCVLOWAT bytes (all of {@code len} with MSG_WAITALL), EOF, an error
     * or the timeout, then copies what is there. SEQPACKET: waits for a whole message and returns it,
     * cut to {@code len} (MSG_TRUNC in {@code info}). See {@link ConnectionReceiver}.
     *
     * @return bytes read (the message's real length with MSG_TRUNC), -1 at EOF, 0 with MSG_DONTWAIT and
     *         nothing queued
     */
    public int receive(byte[] dst, int off, int len, int flags, long timeoutNanos, MessageInfo info) throws IOException {
        return receiver.receive(ByteBuffer.wrap(dst), off, len, flags, timeoutNanos, info);
    }

    /**
     * {@link #receive(byte[], int, int, int, long, MessageInfo)} into {@code dst}'s remaining space,
     * advancing its position by the bytes copied (not by a truncated message's real length). A direct
     * buffer gets the queued bytes copied straight in, as an array does. A read-only buffer is refused
     * before anything is taken off the queue.
     */
    public int receive(ByteBuffer dst, int flags, long timeoutNanos, MessageInfo info) throws IOException {
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        int start = dst.position();
        int room = dst.remaining();
        int n = receiver.receive(dst, start, room, flags, timeoutNanos, info);
        if (n > 0) {
            dst.position(start + Math.min(n, room));
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------------
    // shutdown, close, reset

    /**
     * Closes the socket that owns this connection, as its own {@code close()} would; for a machine that
     * closes every socket of a process that is exiting ({@code Machine.closeSockets}). Call without the lock.
     */
    public void closeSocket() {
        owner.closeSocket();
    }

    /** shutdown(2): how is MessageFlags.SHUTDOWN_RECEIVE, _SEND or _BOTH; sends SHUTDOWN with those flags. */
    public void shutdown(int how) throws IOException {
        lock.lock();
        try {
            checkNotReleased();
            if (!protocol.shutdown(how)) {
                throw Errno.ENOTCONN.exception("shutdown on " + local() + " in state " + protocol.state());
            }
        } finally {
            unlockAndFlush();
        }
    }

    /**
     * close(2) for this connection: wakes every blocked thread, then ends the protocol gracefully
     * (SHUTDOWN both ways, RST after the close timeout if the peer does not finish), or at once when there
     * is nothing to wait for.
     *
     * @return true when the connection is CLOSED already (the caller frees what the machine held for it)
     */
    public boolean release() {
        boolean awaitPeer;
        lock.lock();
        try {
            awaitPeer = protocol.release();
        } finally {
            lock.unlock();
        }
        // Often the peer's RST comes back while our SHUTDOWN is delivered: then no timer is needed
        // (arming one wakes the timer thread on every close).
        transport.flush();
        lock.lock();
        try {
            if (awaitPeer && protocol.state().phase() != ConnectionState.Phase.CLOSED) {
                closeTimer = owner.schedule(this::closeTimedOut, owner.closeTimeoutNanos());
            }
            return protocol.state().phase() == ConnectionState.Phase.CLOSED;
        } finally {
            lock.unlock();
        }
    }

    private void closeTimedOut() {
        lock.lock();
        try {
            protocol.closeTimedOut();
        } finally {
            unlockAndFlush();
        }
    }

    /** The link under this connection is gone (the kernel's transport reset): ECONNRESET, nothing sent. */
    public void transportReset() {
        lock.lock();
        try {
            protocol.transportReset();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Handles a packet the machine found for this connection; takes ownership of it. Called on the
     * transport's delivery path: what it queues in answer is moved by that path, not flushed here.
     */
    public void onPacket(Packet p) {
        lock.lock();
        try {
            protocol.onPacket(p);
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Options.

    /** SO_VM_SOCKETS_BUFFER_SIZE on a live connection: the new size is advertised at once. */
    public void setBufferSize(long bytes) {
        lock.lock();
        try {
            protocol.setBufferSize(bytes);
        } finally {
            unlockAndFlush();
        }
    }

    /** SO_RCVLOWAT: a raise above what is queued announces credit so the sender can fill it. */
    public void setRcvLowat(int bytes) {
        lock.lock();
        try {
            protocol.setRcvLowat(bytes);
        } finally {
            unlockAndFlush();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Locking and waiting.

    void unlockAndFlush() {
        lock.unlock();
        transport.flush();
    }

    /** Takes a direction's lock ({@link ConnectionSender}'s, {@link ConnectionReceiver}'s); an interrupt while waiting closes the socket. */
    void lockDirection(ReentrantLock direction) throws IOException {
        try {
            direction.lockInterruptibly();
        } catch (InterruptedException e) {
            throw Interruption.closeSocket(owner::closeSocket, e);
        }
    }

    long awaitReadable(long nanos) throws IOException {
        try {
            return wakeups.awaitReadable(nanos, output);
        } catch (InterruptedException e) {
            throw interrupted(e);
        } finally {
            checkNotReleasedUnlessInterrupted();
        }
    }

    long awaitWritable(long nanos) throws IOException {
        try {
            return wakeups.awaitWritable(nanos, output);
        } catch (InterruptedException e) {
            throw interrupted(e);
        } finally {
            checkNotReleasedUnlessInterrupted();
        }
    }

    /** An interrupted wait closes the socket, as an interrupted channel does; the lock is let go meanwhile. */
    private IOException interrupted(InterruptedException e) {
        lock.unlock();
        try {
            return Interruption.closeSocket(owner::closeSocket, e);
        } finally {
            lock.lock();
        }
    }

    private void checkNotReleasedUnlessInterrupted() throws SocketException {
        if (!Thread.currentThread().isInterrupted()) {
            checkNotReleased();
        }
    }

    void checkNotReleased() throws SocketException {
        if (protocol.released()) {
            throw Errno.socketClosed();
        }
    }

    /**
     * The protocol's decisions, carried out: packets to the transport, wake-ups, the machine's tables. As
     * a Runnable it is the flush a waiting thread runs with the lock let go (one object for both: an idle
     * connection's size matters).
     */
    private final class ProtocolOutput implements ConnectionProtocol.Output, Runnable {
        @Override
        public void run() {
            transport.flush();
        }

        @Override
        public void send(Packet packet) {
            transport.send(packet);
        }

        @Override
        public void wakeReaders() {
            wakeups.wakeReaders();
            tellListener();
        }

        @Override
        public void wakeWriters() {
            wakeups.wakeWriters();
            tellListener();
        }

        private void tellListener() {
            Readiness.Listener listener = readinessListener;
            if (listener != null) {
                listener.readinessChanged();
            }
        }

        @Override
        public void established() {
            cancelConnectTimer();
            owner.established(Connection.this);
        }

        @Override
        public void finished() {
            if (closeTimer != null) {
                closeTimer.cancel(false);
                closeTimer = null;
            }
            cancelConnectTimer();
            owner.finished(Connection.this);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Views for the socket, tests and tools.

    public SocketType type() {
        return protocol.type();
    }

    public VsockAddress local() {
        return protocol.local();
    }

    public VsockAddress remote() {
        return protocol.remote();
    }

    public Transport transport() {
        return transport;
    }

    public ConnectionState state() {
        lock.lock();
        try {
            return protocol.state();
        } finally {
            lock.unlock();
        }
    }

    /** SIOCINQ: bytes queued for the reader. */
    public int queuedBytes() {
        lock.lock();
        try {
            return protocol.queuedBytes();
        } finally {
            lock.unlock();
        }
    }

    /** SIOCOUTQ: bytes sent that the peer's reader has not consumed. */
    public int unacknowledgedBytes() {
        lock.lock();
        try {
            return protocol.unacknowledgedBytes();
        } finally {
            lock.unlock();
        }
    }

    /** Heap bytes held by the receive queue's arrays (at most a small factor over the buffer size). */
    public long retainedBytes() {
        lock.lock();
        try {
            return protocol.retainedBytes();
        } finally {
            lock.unlock();
        }
    }

    /** A consistent copy of the credit counters. */
    public Credit.Snapshot credit() {
        lock.lock();
        try {
            return protocol.credit();
        } finally {
            lock.unlock();
        }
    }


    @Override
    public String toString() {
        return "Connection[" + protocol.type() + " " + local() + " -> " + remote() + "]";
    }
}
