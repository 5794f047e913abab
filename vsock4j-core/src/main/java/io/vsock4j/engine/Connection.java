package io.vsock4j.engine;

import io.vsock4j.MessageFlags;
import io.vsock4j.MessageInfo;
import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.spi.Errno;
import io.vsock4j.spi.Interruption;
import io.vsock4j.spi.Transport;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One virtio-vsock connection: the state machine of net/vmw_vsock/virtio_transport_common.c and the
 * blocking socket calls of af_vsock.c on top of it.
 *
 * <h2>The protocol in brief</h2>
 * A connection is named by its two (CID, port) endpoints. The client sends REQUEST; a listener answers
 * RESPONSE (both sides are then ESTABLISHED) or RST (nobody there: ECONNRESET). Data flows as RW packets,
 * never more than the peer's credit allows ({@link Credit}); a receiver whose reader freed space says so
 * with CREDIT_UPDATE, and a sender may ask with CREDIT_REQUEST. SHUTDOWN carries RCV and/or SEND: the
 * peer will receive, or send, no more. Once both directions are shut and nothing is left to read, the
 * side that notices sends RST and the connection is done; RST from either side ends it at once. A
 * closing socket sends SHUTDOWN(RCV|SEND) and waits up to {@link #CLOSE_TIMEOUT_NANOS} for the peer's RST
 * before sending its own. A packet that makes no sense in the current state resets this connection and
 * nothing else; an RST is never answered.
 *
 * <h2>Threads and locks</h2>
 * Two kinds of thread call in. Socket threads call {@link #connect}, {@link #send}, {@link #receive},
 * {@link #shutdown} and {@link #release}, and may block; the transport's delivery thread calls
 * {@link #onPacket}, which never blocks. Everything mutable is guarded by {@link #lock}, which is the
 * owning socket's lock. Packets are built and handed to the transport while holding it
 * ({@link Transport#send} only queues, so the queue order is the lock order); every method then calls
 * {@link Transport#flush} once its state change is complete, and before it waits. Blocked threads wait on {@link #readable} or {@link #writable}
 * and are woken by packets, by {@link #release} from another thread, or by interruption, which
 * closes the socket as a channel would.
 *
 * <p>The two bulk copies of a transfer run with {@link #lock} released: the writer's copy into a
 * packet's payload and the reader's copy out of the receive queue. Held, they would make the thread
 * that delivers the next packet (or a CREDIT_UPDATE) wait for the lock as long as a 64 KiB copy takes,
 * and on a VM a thread that parks on a lock pays the hypervisor's wake-up: the two sides of a transfer
 * took turns instead of overlapping (docs/benchmarks.md: 40 Gbit/s before, 62 after). So writers
 * serialize on {@link #sendLock} and readers on {@link #receiveLock}, each held for the whole call and
 * always taken before {@link #lock}: a writer computes its packet's size under the lock, copies, and
 * takes the lock again to send; a reader claims bytes under the lock, copies, and takes it again to
 * consume them
 * ({@link ReceiveQueue#claim}).
 */
public final class Connection {
    /** VSOCK_CLOSE_TIMEOUT (8 s): how long a closed socket waits for the peer to finish. */
    public static final long CLOSE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(8);

    /** What the machine does for a connection; called with the connection's lock held. */
    public interface Owner {
        /** The connection became ESTABLISHED by RESPONSE: make it findable by its endpoints. */
        void established(Connection connection);

        /** The connection is finished and released: forget it, free its port. */
        void finished(Connection connection);

        /** Closes the socket that owns this connection (an interrupted call closes it, as a channel's does). */
        void closeSocket();

        /** Runs {@code task} once after {@code delayNanos} on a machine thread. */
        Future<?> schedule(Runnable task, long delayNanos);

        /** How long a closed socket waits for its peer to finish; {@link #CLOSE_TIMEOUT_NANOS} unless configured. */
        default long closeTimeoutNanos() {
            return CLOSE_TIMEOUT_NANOS;
        }

        /** Watchers of every packet (capture, demo), or null; called before the packet is sent. */
        default void sending(Connection connection, Packet packet) {
        }
    }

    private final ReentrantLock lock;
    /** Serializes {@link #send} callers; taken before {@link #lock}, held while the payload copy runs unlocked. */
    private final ReentrantLock sendLock = new ReentrantLock();
    /** Serializes {@link #receive} callers; taken before {@link #lock}, held while a claimed copy runs unlocked. */
    private final ReentrantLock receiveLock = new ReentrantLock();
    /** Signalled when data, a message, EOF or an error may be there for a reader; or a connect finished. */
    private final Condition readable;
    /** Signalled when credit, an error or a shutdown may let a writer go on. */
    private final Condition writable;

    private final Owner owner;
    private final Transport transport;
    private final SocketType type;
    private final int virtioType;
    /** Our endpoint as the packets carry it: the transport's CID and our port. */
    private final VsockAddress local;
    private final VsockAddress remote;

    // All below guarded by lock.
    private ConnectionState state = ConnectionState.IDLE;
    private final Credit credit;
    private final ReceiveQueue rx = new ReceiveQueue();
    private final ReceiveQueue.MessageBounds bounds = new ReceiveQueue.MessageBounds();
    /** SHUTDOWN flags we have sent (RCV = 1, SEND = 2, as the kernel's sk_shutdown). */
    private int localShutdown;
    /** SHUTDOWN flags the peer sent, or both after an RST. */
    private int peerShutdown;
    /** An error the next blocking call reports (connect failure, transport reset), or null. */
    private Errno error;
    /** The kernel's SOCK_DONE: the protocol is over for this connection. */
    private boolean done;
    /** close() was called: the socket is gone for its user. */
    private volatile boolean released;
    /** {@link #finish} ran: the machine has forgotten this connection. */
    private boolean finished;
    private Future<?> closeTimer;
    private int rcvLowat = 1;
    /**
     * Counts wake-ups, so a thread that delivered packets itself just before waiting sees what they did,
     * and a thread spinning before it parks sees the event it waits for. Written under the lock;
     * volatile for the spinner, which reads it without the lock.
     */
    private volatile long wakeups;

    /**
     * How long a blocked call spins, lock released, before it parks: on a VM an idle vCPU that parks pays
     * the hypervisor's wake-up (tens of microseconds measured here), and the answer a reader or writer
     * waits for on the loopback usually comes sooner. -Dvsock4j.spinMicros=0 turns it off.
     */
    private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(Long.getLong("vsock4j.spinMicros", 30));

    public Connection(ReentrantLock lock, Owner owner, Transport transport, SocketType type,
                      VsockAddress local, VsockAddress remote, long bufferSize) {
        this.lock = lock;
        this.readable = lock.newCondition();
        this.writable = lock.newCondition();
        this.owner = owner;
        this.transport = transport;
        this.type = type;
        this.virtioType = type.virtioType();
        this.local = local;
        this.remote = remote;
        this.credit = new Credit(clampBufAlloc(bufferSize));
    }

    /**
     * A connection accepted by a listener from {@code request}: ESTABLISHED at once, RESPONSE sent. The
     * caller has already made it findable.
     */
    public void acceptRequest(Packet request) {
        lock.lock();
        try {
            credit.updateFromPeer(request.bufAlloc, request.fwdCnt);
            state = ConnectionState.ESTABLISHED;
            sendControl(VirtioVsock.OP_RESPONSE, 0);
        } finally {
            lock.unlock();
            transport.flush();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Socket side: may block.

    /**
     * Sends REQUEST and waits for the answer.
     *
     * @param timeoutNanos at most this long (greater than 0)
     */
    public void connect(long timeoutNanos) throws IOException {
        lock.lock();
        try {
            if (state != ConnectionState.IDLE) {
                throw new IllegalStateException("connect on a " + state + " connection");
            }
            state = ConnectionState.CONNECTING;
            sendControl(VirtioVsock.OP_REQUEST, 0);
            long remaining = timeoutNanos;
            while (state == ConnectionState.CONNECTING) {
                if (remaining <= 0) {
                    // The kernel gives up here; a RESPONSE that still comes finds no socket and gets RST.
                    state = ConnectionState.CLOSED;
                    throw Errno.ETIMEDOUT.connectException("connect to " + remote + " after "
                            + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
                }
                remaining = await(readable, remaining);
            }
            if (state != ConnectionState.ESTABLISHED) {
                Errno cause = error != null ? error : Errno.ECONNRESET;
                error = null;
                throw cause.connectException("connect to " + remote);
            }
        } finally {
            lock.unlock();
            transport.flush();
        }
    }

    /**
     * Sends bytes: for STREAM as many as credit allows, waiting for more; for SEQPACKET one message,
     * split into packets whose last carries SEQ_EOM (and SEQ_EOR with MSG_EOR).
     *
     * @param timeoutNanos 0 waits forever; otherwise EAGAIN as a timeout, its bytesTransferred set
     * @return bytes sent, possibly fewer than {@code len} when the connection failed part way or with
     *         MSG_DONTWAIT
     */
    public int send(byte[] src, int off, int len, int flags, long timeoutNanos) throws IOException {
        lockDirection(sendLock);
        try {
            return sendSerialized(src, off, len, flags, timeoutNanos);
        } finally {
            sendLock.unlock();
        }
    }

    private int sendSerialized(byte[] src, int off, int len, int flags, long timeoutNanos) throws IOException {
        lock.lock();
        try {
            checkNotReleased();
            if ((localShutdown & VirtioVsock.SHUTDOWN_SEND) != 0 || (peerShutdown & VirtioVsock.SHUTDOWN_RCV) != 0) {
                throw Errno.EPIPE.exception(sendShutdownReason());
            }
            if (state != ConnectionState.ESTABLISHED) {
                throw Errno.ENOTCONN.exception("send on " + local + " in state " + state);
            }
            if (type == SocketType.SEQPACKET && Integer.toUnsignedLong(len) > credit.txBufferLimit()) {
                // A message must fit in flight whole, or the peer could never read it and give credit back.
                throw Errno.EMSGSIZE.exception(len + "-byte message; at most " + credit.txBufferLimit()
                        + " bytes fit (peer " + remote + " buffers " + Integer.toUnsignedString(credit.peerBufAlloc)
                        + ", this socket " + Integer.toUnsignedString(credit.bufAlloc) + ")");
            }
            boolean dontWait = (flags & MessageFlags.MSG_DONTWAIT) != 0;
            long remaining = timeoutNanos;
            int written = 0;
            while (written < len) {
                long space;
                while ((space = credit.txSpace()) == 0 && canSend()) {
                    if (dontWait) {
                        return written;
                    }
                    if (timeoutNanos > 0 && remaining <= 0) {
                        InterruptedIOException timeout = (InterruptedIOException) Errno.EAGAIN.exception(
                                "send to " + remote + " timed out waiting for credit");
                        timeout.bytesTransferred = written;
                        throw timeout;
                    }
                    remaining = timeoutNanos > 0 ? await(writable, remaining) : await(writable, Long.MAX_VALUE);
                }
                if (!canSend()) {
                    if (written > 0 && type == SocketType.STREAM) {
                        return written;
                    }
                    if (error != null) {
                        throw error.exception("send to " + remote);
                    }
                    throw Errno.EPIPE.exception(sendShutdownReason());
                }
                int n = (int) Math.min(Math.min(len - written, space), VirtioVsock.MAX_PACKET_PAYLOAD_BYTES);
                int seqFlags = 0;
                if (type == SocketType.SEQPACKET && written + n == len) {
                    seqFlags = VirtioVsock.SEQ_EOM | ((flags & MessageFlags.MSG_EOR) != 0 ? VirtioVsock.SEQ_EOR : 0);
                }
                if (sendData(src, off + written, n, seqFlags)) {
                    written += n;
                } // else the connection broke during the copy: the loop's check reports it
            }
            return written;
        } finally {
            lock.unlock();
            transport.flush();
        }
    }

    private boolean canSend() {
        return error == null && state == ConnectionState.ESTABLISHED
                && (localShutdown & VirtioVsock.SHUTDOWN_SEND) == 0 && (peerShutdown & VirtioVsock.SHUTDOWN_RCV) == 0;
    }

    private String sendShutdownReason() {
        return (localShutdown & VirtioVsock.SHUTDOWN_SEND) != 0
                ? "send on " + local + " after shutdownOutput"
                : "peer " + remote + " shut down receiving";
    }

    /**
     * Receives. STREAM: waits for SO_RCVLOWAT bytes (all of {@code len} with MSG_WAITALL), EOF, an error
     * or the timeout, then copies what is there. SEQPACKET: waits for a whole message and returns it,
     * cut to {@code len} (MSG_TRUNC in {@code info}).
     *
     * @return bytes read (the message's real length with MSG_TRUNC), -1 at EOF, 0 with MSG_DONTWAIT and
     *         nothing queued
     */
    public int receive(byte[] dst, int off, int len, int flags, long timeoutNanos, MessageInfo info) throws IOException {
        lockDirection(receiveLock);
        try {
            return receiveSerialized(dst, off, len, flags, timeoutNanos, info);
        } finally {
            receiveLock.unlock();
        }
    }

    /** Takes {@link #sendLock} or {@link #receiveLock}; an interrupt while waiting closes the socket. */
    private void lockDirection(ReentrantLock direction) throws IOException {
        try {
            direction.lockInterruptibly();
        } catch (InterruptedException e) {
            throw Interruption.closeSocket(owner::closeSocket, e);
        }
    }

    private int receiveSerialized(byte[] dst, int off, int len, int flags, long timeoutNanos, MessageInfo info)
            throws IOException {
        lock.lock();
        try {
            checkNotReleased();
            if (state == ConnectionState.IDLE || state == ConnectionState.CONNECTING) {
                throw Errno.ENOTCONN.exception("receive on " + local + " before connect");
            }
            if ((localShutdown & VirtioVsock.SHUTDOWN_RCV) != 0) {
                return -1;
            }
            if (len == 0) {
                return 0; // as Linux: a zero-length buffer is valid and reads nothing, for both types
            }
            return type == SocketType.STREAM
                    ? receiveStream(dst, off, len, flags, timeoutNanos, info)
                    : receiveMessage(dst, off, len, flags, timeoutNanos, info);
        } finally {
            lock.unlock();
            transport.flush();
        }
    }

    private int receiveStream(byte[] dst, int off, int len, int flags, long timeoutNanos, MessageInfo info)
            throws IOException {
        boolean peek = (flags & MessageFlags.MSG_PEEK) != 0;
        boolean dontWait = (flags & MessageFlags.MSG_DONTWAIT) != 0;
        int target = (flags & MessageFlags.MSG_WAITALL) != 0 ? len : Math.min(rcvLowat, len);
        long remaining = timeoutNanos;
        int copied = 0;
        while (true) {
            int queued = rx.bytes();
            if (queued > 0 && (queued >= target - copied || dontWait || noMoreData())) {
                if (peek) {
                    return rx.readStream(dst, off + copied, len - copied, true);
                }
                int n = readUnlocked(dst, off + copied, len - copied);
                consumed(n);
                copied += n;
                if (copied >= target || dontWait) {
                    break;
                }
                continue;
            }
            if (noMoreData() || dontWait) {
                break;
            }
            if (timeoutNanos > 0 && remaining <= 0) {
                if (copied > 0) {
                    break;
                }
                throw Errno.EAGAIN.exception("receive from " + remote + " timed out");
            }
            remaining = await(readable, timeoutNanos > 0 ? remaining : Long.MAX_VALUE);
            checkNotReleased();
        }
        if (info != null) {
            info.set(copied, 0);
        }
        if (copied > 0 || dontWait && !noMoreData()) {
            return copied;
        }
        if (error != null) {
            throw error.exception("receive from " + remote);
        }
        return -1;
    }

    private int receiveMessage(byte[] dst, int off, int len, int flags, long timeoutNanos, MessageInfo info)
            throws IOException {
        boolean peek = (flags & MessageFlags.MSG_PEEK) != 0;
        long remaining = timeoutNanos;
        while (rx.messages() == 0) {
            if (noMoreData()) {
                if (error != null) {
                    throw error.exception("receive from " + remote);
                }
                return -1;
            }
            if ((flags & MessageFlags.MSG_DONTWAIT) != 0) {
                return 0;
            }
            if (timeoutNanos > 0 && remaining <= 0) {
                throw Errno.EAGAIN.exception("receive from " + remote + " timed out");
            }
            remaining = await(readable, timeoutNanos > 0 ? remaining : Long.MAX_VALUE);
            checkNotReleased();
        }
        int total = rx.readMessage(dst, off, len, peek, bounds);
        if (!peek) {
            credit.onConsumed(total);
            // Linux announces credit after every message read, so a sender blocked on a full buffer goes on.
            sendControl(VirtioVsock.OP_CREDIT_UPDATE, 0);
        }
        int outFlags = (total > bounds.copiedBytes ? MessageFlags.MSG_TRUNC : 0)
                | (bounds.endOfRecord ? MessageFlags.MSG_EOR : 0);
        if (info != null) {
            info.set(total, outFlags);
        }
        return (flags & MessageFlags.MSG_TRUNC) != 0 ? total : bounds.copiedBytes;
    }

    /**
     * Takes up to {@code len} queued bytes into {@code dst}, the copy itself with the lock released (see
     * the class comment). Throws "Socket closed" when a close came during the copy.
     */
    private int readUnlocked(byte[] dst, int off, int len) throws SocketException {
        if (lock.getHoldCount() != 1 || rx.headChunkBytes() < UNLOCKED_COPY_MIN_BYTES) {
            // Small chunks (merged small packets) are copied in one go under the lock: cheaper than a lock
            // round trip each. An outer hold of the lock must not be let go.
            return rx.readStream(dst, off, len, false);
        }
        int total = 0;
        do {
            int claimed = rx.claim(len - total);
            lock.unlock();
            try {
                rx.copyClaimed(dst, off + total);
            } finally {
                lock.lock();
            }
            int n = rx.commitClaimed(claimed);
            checkNotReleased();
            if (n == 0) {
                break;
            }
            total += n;
        } while (total < len && rx.headChunkBytes() >= UNLOCKED_COPY_MIN_BYTES);
        if (total < len && rx.bytes() > 0) {
            total += rx.readStream(dst, off + total, len - total, false);
        }
        return total;
    }

    /** A copy at least this large (a payload, a head chunk) runs with the lock released; smaller ones are cheaper than the lock round trip. */
    private static final int UNLOCKED_COPY_MIN_BYTES = 4096;

    /** True once no more data can arrive: peer shut SEND, the protocol is done, or an error. */
    private boolean noMoreData() {
        return done || error != null || (peerShutdown & VirtioVsock.SHUTDOWN_SEND) != 0
                || state == ConnectionState.CLOSED;
    }

    /** The reader took {@code n} bytes: account, and tell the sender when it matters. */
    private void consumed(int n) {
        credit.onConsumed(n);
        if (credit.shouldAnnounce(rcvLowat) && state == ConnectionState.ESTABLISHED) {
            sendControl(VirtioVsock.OP_CREDIT_UPDATE, 0);
        }
    }

    /** shutdown(2): how is MessageFlags.SHUTDOWN_RECEIVE, _SEND or _BOTH; sends SHUTDOWN with those flags. */
    public void shutdown(int how) throws IOException {
        lock.lock();
        try {
            checkNotReleased();
            if (state != ConnectionState.ESTABLISHED && state != ConnectionState.CLOSING) {
                throw Errno.ENOTCONN.exception("shutdown on " + local + " in state " + state);
            }
            int add = how & VirtioVsock.SHUTDOWN_BOTH & ~localShutdown;
            if (add == 0) {
                return;
            }
            localShutdown |= add;
            if (state == ConnectionState.ESTABLISHED) {
                sendControl(VirtioVsock.OP_SHUTDOWN, add);
            }
            wakeReaders();
            wakeWriters();
        } finally {
            lock.unlock();
            transport.flush();
        }
    }

    /**
     * close(2) for this connection: wakes every blocked thread, then ends the protocol gracefully
     * (SHUTDOWN both ways, RST after {@link #CLOSE_TIMEOUT_NANOS} if the peer does not finish), or at once
     * when there is nothing to wait for.
     */
    public void release() {
        lock.lock();
        try {
            if (released) {
                return;
            }
            released = true;
            wakeReaders();
            wakeWriters();
            switch (state) {
                case IDLE, CONNECTING, CLOSED -> finish();
                case ESTABLISHED, CLOSING -> {
                    if ((peerShutdown & VirtioVsock.SHUTDOWN_BOTH) == VirtioVsock.SHUTDOWN_BOTH) {
                        if (!done) {
                            sendControl(VirtioVsock.OP_RST, 0);
                        }
                        finish();
                        return;
                    }
                    if (localShutdown != VirtioVsock.SHUTDOWN_BOTH && !done) {
                        // Like the kernel, close announces both directions, whatever was shut before.
                        localShutdown = VirtioVsock.SHUTDOWN_BOTH;
                        sendControl(VirtioVsock.OP_SHUTDOWN, VirtioVsock.SHUTDOWN_BOTH);
                    }
                    if (!done) {
                        // Often the peer's RST comes back while our SHUTDOWN is delivered: then no
                        // timer is needed (scheduling one wakes the timer thread on every close).
                        transport.flush();
                    }
                    if (done) {
                        finish();
                    } else if (!finished) {
                        closeTimer = owner.schedule(this::closeTimeout, owner.closeTimeoutNanos());
                    }
                }
            }
        } finally {
            lock.unlock();
            transport.flush();
        }
    }

    private void closeTimeout() {
        lock.lock();
        try {
            if (state != ConnectionState.CLOSED) {
                if (!done) {
                    sendControl(VirtioVsock.OP_RST, 0);
                }
                markDone();
                finish();
            }
        } finally {
            lock.unlock();
            transport.flush();
        }
    }

    /**
     * The link under this connection is gone (the kernel's transport reset): ECONNRESET for whoever
     * waits, nothing sent.
     */
    public void transportReset() {
        lock.lock();
        try {
            if (state == ConnectionState.CLOSED) {
                return;
            }
            error = Errno.ECONNRESET;
            markDone();
            if (released) {
                finish();
            } else {
                state = ConnectionState.CLOSED;
                owner.finished(this);
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Transport side: never blocks.

    /**
     * Handles a packet the machine found for this connection. Called on the transport's delivery
     * thread; takes ownership of the packet.
     */
    public void onPacket(Packet p) {
        lock.lock();
        try {
            if (done || state == ConnectionState.CLOSED || state == ConnectionState.IDLE) {
                // The kernel's SOCK_DONE check: this connection is over, the peer must learn it.
                if (p.op != VirtioVsock.OP_RST) {
                    sendPacket(Packet.resetFor(p));
                }
                return;
            }
            boolean gainedSpace = credit.updateFromPeer(p.bufAlloc, p.fwdCnt);
            switch (state) {
                case CONNECTING -> onPacketConnecting(p);
                case ESTABLISHED -> onPacketEstablished(p);
                default -> throw new AssertionError(state);
            }
            if (gainedSpace) {
                wakeWriters();
            }
        } finally {
            lock.unlock();
            transport.flush();
        }
    }

    private void onPacketConnecting(Packet p) {
        switch (p.op) {
            case VirtioVsock.OP_RESPONSE -> {
                state = ConnectionState.ESTABLISHED;
                owner.established(this);
            }
            case VirtioVsock.OP_INVALID -> {
                return;
            }
            case VirtioVsock.OP_RST -> {
                error = Errno.ECONNRESET;
                state = ConnectionState.CLOSED;
            }
            default -> {
                error = Errno.EPROTO;
                sendPacket(Packet.resetFor(p));
                state = ConnectionState.CLOSED;
            }
        }
        wakeReaders();
    }

    private void onPacketEstablished(Packet p) {
        switch (p.op) {
            case VirtioVsock.OP_RW -> {
                if (p.len == 0) {
                    return;
                }
                if (credit.wouldOverrun(p.len)) {
                    // The peer ignored our credit. Linux drops such a packet; dropping bytes from the
                    // middle of a stream corrupts it, so the engine resets instead.
                    protocolViolation(p);
                    return;
                }
                int seqFlags = type == SocketType.SEQPACKET ? p.flags & (VirtioVsock.SEQ_EOM | VirtioVsock.SEQ_EOR) : 0;
                rx.enqueue(p.payload, p.payloadOffset, p.len, seqFlags);
                credit.onReceived(p.len);
                if (type == SocketType.SEQPACKET ? rx.messages() > 0 : rx.bytes() >= rcvLowat) {
                    wakeReaders();
                }
            }
            case VirtioVsock.OP_CREDIT_REQUEST -> sendControl(VirtioVsock.OP_CREDIT_UPDATE, 0);
            case VirtioVsock.OP_CREDIT_UPDATE -> wakeWriters();
            case VirtioVsock.OP_SHUTDOWN -> {
                peerShutdown |= p.flags & VirtioVsock.SHUTDOWN_BOTH;
                if (peerShutdown == VirtioVsock.SHUTDOWN_BOTH && rx.isEmpty()) {
                    sendControl(VirtioVsock.OP_RST, 0);
                    markDone();
                    if (released) {
                        finish();
                    }
                }
                wakeReaders();
                wakeWriters();
            }
            case VirtioVsock.OP_RST -> {
                markDone();
                if (released) {
                    finish();
                }
            }
            default -> protocolViolation(p);
        }
    }

    /** A packet that makes no sense here: reset this connection, and only this one. */
    private void protocolViolation(Packet p) {
        sendPacket(Packet.resetFor(p));
        markDone();
        if (released) {
            finish();
        }
    }

    /** The kernel's virtio_transport_do_close: the protocol is over; readers drain, then EOF. */
    private void markDone() {
        done = true;
        peerShutdown = VirtioVsock.SHUTDOWN_BOTH;
        if (state == ConnectionState.ESTABLISHED) {
            state = ConnectionState.CLOSING;
        }
        wakeReaders();
        wakeWriters();
    }

    /** Leaves the machine for good. Idempotent: a packet delivered during release may finish first. */
    private void finish() {
        if (finished) {
            return;
        }
        finished = true;
        if (closeTimer != null) {
            closeTimer.cancel(false);
            closeTimer = null;
        }
        rx.clear();
        state = ConnectionState.CLOSED;
        owner.finished(this);
    }

    // ------------------------------------------------------------------------------------------------
    // Options.

    /** SO_VM_SOCKETS_BUFFER_SIZE on a live connection: the new size is advertised at once. */
    public void setBufferSize(long bytes) {
        lock.lock();
        try {
            int newAlloc = clampBufAlloc(bytes);
            if (newAlloc != credit.bufAlloc) {
                credit.bufAlloc = newAlloc;
                if (state == ConnectionState.ESTABLISHED) {
                    sendControl(VirtioVsock.OP_CREDIT_UPDATE, 0);
                }
            }
        } finally {
            lock.unlock();
            transport.flush();
        }
    }

    /** SO_RCVLOWAT: a raise above what is queued announces credit so the sender can fill it. */
    public void setRcvLowat(int bytes) {
        lock.lock();
        try {
            rcvLowat = Math.max(1, bytes);
            if (state == ConnectionState.ESTABLISHED && rx.bytes() < rcvLowat && credit.hasUnannounced()) {
                sendControl(VirtioVsock.OP_CREDIT_UPDATE, 0);
            }
            wakeReaders();
        } finally {
            lock.unlock();
            transport.flush();
        }
    }

    private static int clampBufAlloc(long bytes) {
        return (int) Math.min(bytes, VirtioVsock.MAX_BUF_SIZE_BYTES);
    }

    // ------------------------------------------------------------------------------------------------
    // Sending packets (lock held).

    private void sendControl(int op, int flags) {
        Packet p = Packet.control(virtioType, op, flags, local, remote);
        credit.stamp(p);
        sendPacket(p);
    }

    /**
     * Sends one RW packet of {@code n} bytes of {@code src}, copying a large payload with the lock released
     * (see the class comment; the caller holds {@link #sendLock}, so no other writer comes between).
     * Returns false, sending nothing, when the connection can no longer send once the copy is done.
     */
    private boolean sendData(byte[] src, int off, int n, int seqFlags) {
        byte[] payload = PayloadPool.take(n);
        if (lock.getHoldCount() == 1 && n >= UNLOCKED_COPY_MIN_BYTES) {
            lock.unlock();
            try {
                System.arraycopy(src, off, payload, 0, n);
            } finally {
                lock.lock();
            }
            if (!canSend()) {
                PayloadPool.give(payload);
                return false;
            }
        } else {
            System.arraycopy(src, off, payload, 0, n);
        }
        Packet p = Packet.control(virtioType, VirtioVsock.OP_RW, seqFlags, local, remote);
        p.payload = payload;
        p.len = n;
        credit.onSent(n);
        credit.stamp(p);
        sendPacket(p);
        return true;
    }

    private void sendPacket(Packet p) {
        owner.sending(this, p);
        transport.send(p);
    }

    // ------------------------------------------------------------------------------------------------
    // Blocking.

    /**
     * Waits on {@code condition}; returns the nanoseconds left. Interruption closes the socket, as an
     * interrupted channel does; a close by another thread is reported by the caller's next check.
     */
    private long await(Condition condition, long nanos) throws IOException {
        // What we queued must move before we sleep: the answer we wait for may depend on it. The flush
        // may deliver that answer on this very thread; then there is nothing to wait for.
        long seen = wakeups;
        transport.flush();
        if (wakeups != seen) {
            return nanos;
        }
        long spun = spinUntilWoken(seen, nanos);
        if (spun >= 0) {
            checkNotReleased(); // closed by another thread while we spun: as if woken from the park
            return nanos == Long.MAX_VALUE ? nanos : nanos - spun;
        }
        try {
            return nanos == Long.MAX_VALUE ? awaitForever(condition) : condition.awaitNanos(nanos);
        } catch (InterruptedException e) {
            throw Interruption.closeSocket(owner::closeSocket, e);
        } finally {
            if (released && !Thread.currentThread().isInterrupted()) {
                checkNotReleased();
            }
        }
    }

    /**
     * Spins with the lock released while nothing happens, at most {@link #SPIN_NANOS} (and never past the
     * caller's timeout). Only when this thread holds the lock once: releasing an outer hold would let a
     * caller's invariants be seen half-done. Returns the nanoseconds spun if a wake-up came, else -1
     * (the caller parks; the lock is held again either way, and a signal sent after this check cannot be
     * lost because signals need the lock).
     */
    private long spinUntilWoken(long seen, long nanos) {
        if (SPIN_NANOS == 0 || lock.getHoldCount() != 1) {
            return -1;
        }
        long start = System.nanoTime();
        long limit = Math.min(SPIN_NANOS, nanos);
        lock.unlock();
        try {
            while (wakeups == seen && !released && System.nanoTime() - start < limit) {
                Thread.onSpinWait();
            }
        } finally {
            lock.lock();
        }
        return wakeups != seen || released ? System.nanoTime() - start : -1;
    }

    private void wakeReaders() {
        wakeups++;
        readable.signalAll();
    }

    private void wakeWriters() {
        wakeups++;
        writable.signalAll();
    }

    private static long awaitForever(Condition condition) throws InterruptedException {
        condition.await();
        return Long.MAX_VALUE;
    }

    private void checkNotReleased() throws SocketException {
        if (released) {
            throw new SocketException("Socket closed");
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Views for the socket, tests and tools.

    public SocketType type() {
        return type;
    }

    public VsockAddress local() {
        return local;
    }

    public VsockAddress remote() {
        return remote;
    }

    public Transport transport() {
        return transport;
    }

    public ConnectionState state() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    /** SIOCINQ: bytes queued for the reader. */
    public int queuedBytes() {
        lock.lock();
        try {
            return rx.bytes();
        } finally {
            lock.unlock();
        }
    }

    /** SIOCOUTQ: bytes sent that the peer's reader has not consumed. */
    public int unacknowledgedBytes() {
        lock.lock();
        try {
            return credit.txCnt - credit.peerFwdCnt;
        } finally {
            lock.unlock();
        }
    }

    /** Heap bytes held by the receive queue's arrays (at most a small factor over the buffer size). */
    public long retainedBytes() {
        lock.lock();
        try {
            return rx.retainedBytes();
        } finally {
            lock.unlock();
        }
    }

    /** A consistent copy of the credit counters. */
    public CreditSnapshot credit() {
        lock.lock();
        try {
            return new CreditSnapshot(credit.bufAlloc, credit.fwdCnt, credit.rxBytes, credit.txCnt,
                    credit.peerBufAlloc, credit.peerFwdCnt, credit.txSpace());
        } finally {
            lock.unlock();
        }
    }

    /** The credit counters at one moment, all u32 in ints except {@code txSpace}. */
    public record CreditSnapshot(int bufAlloc, int fwdCnt, int rxBytes, int txCnt, int peerBufAlloc,
                                 int peerFwdCnt, long txSpace) {
    }

    @Override
    public String toString() {
        return "Connection[" + type + " " + local + " -> " + remote + "]";
    }
}
