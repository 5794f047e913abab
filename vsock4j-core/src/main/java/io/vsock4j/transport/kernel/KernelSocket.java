package io.vsock4j.transport.kernel;

import io.vsock4j.spi.Interruption;
import io.vsock4j.MessageFlags;
import io.vsock4j.MessageInfo;
import io.vsock4j.Readiness;
import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.internal.ffm.NativeErrors;
import io.vsock4j.spi.Errno;
import io.vsock4j.SocketHandle;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.SocketOption;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A kernel AF_VSOCK socket behind the {@link SocketHandle} contract. The descriptor is non-blocking;
 * a call that would block parks on a {@link Poller} instead, so virtual threads never hold a carrier in
 * the kernel, and close or interrupt wakes them ({@link KernelFd}). Data moves straight between the
 * caller's {@code byte[]} and the kernel (critical downcalls), except SEQPACKET receives, which need
 * recvmsg's out-flags and so a native buffer.
 *
 * <p>One exception to "never block in the kernel": a connected SEQPACKET socket is switched back to
 * blocking mode and sends there, because Linux may enqueue part of a message on a non-blocking send and
 * then report EAGAIN without saying how much went (af_vsock.c, vsock_connectible_sendmsg), which would
 * corrupt the message boundary on retry. Receives on it pass MSG_DONTWAIT. Such a sender waits in the
 * kernel only while the peer's buffer is full; close shuts the socket down first, which wakes it.
 *
 * <p>Threads: any. Readers (receive, accept) serialize on {@link #readLock}, writers (send, connect) on
 * {@link #writeLock}; each direction owns its scratch memory under that lock. Control calls (bind,
 * options, shutdown) take no lock: the kernel serializes them.
 *
 * <p>Readiness ({@link Readiness}, for event loops): {@link #readyOps()} is poll(2) with a zero timeout on
 * the descriptor, and a listener is told of every epoll event on it by the {@link ReadinessPoller}. A
 * non-blocking connect is {@link KernelConnect#start} in {@link #startConnect} and its
 * {@link KernelConnect#poll} in {@link #finishConnect}; the poller's timer tells the listener when its
 * deadline passes.
 */
final class KernelSocket implements SocketHandle {
    /** The kernel's own connect timer is set this far past ours, so ours always decides. */
    private static final long KERNEL_TIMER_SLACK_NANOS = 10_000_000_000L;

    private final KernelProvider provider;
    private final SocketType type;
    private final KernelFd fd;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Guarded by readLock: errno cell, epoll_event, pollfd. */
    private final MemorySegment readScratch = KernelFd.directionScratch();
    /** Guarded by writeLock. */
    private final MemorySegment writeScratch = KernelFd.directionScratch();
    /** Guarded by readLock: recvmsg's msghdr + iovec and its growing data buffer. */
    private MemorySegment msghdr;
    private MemorySegment recvBuffer;
    /** SO_RCVLOWAT as last set through {@link #setOption}; a blocking read then polls first (KernelIo). */
    private volatile int rcvLowat = 1;
    private volatile boolean listening;
    private volatile boolean connected;
    /** The peer, read once connected: getpeername fails after a shutdown (SS_DISCONNECTING). */
    private volatile VsockAddress remote;
    /** A non-blocking connect whose answer is awaited, or null. Written under writeLock; volatile for readyOps. */
    private volatile KernelConnect pendingConnect;
    /** Set by {@link #setReadinessListener}; null when none. */
    private volatile Readiness.Listener readinessListener;
    /** Serializes {@link #readyOps}, which owns {@link #pollScratch}. */
    private final ReentrantLock pollLock = new ReentrantLock();
    /** Guarded by pollLock: errno cell and pollfd for {@link #readyOps}. */
    private final MemorySegment pollScratch = KernelFd.directionScratch();

    KernelSocket(KernelProvider provider, SocketType type, int fd, boolean connected) throws IOException {
        this.provider = provider;
        this.type = type;
        this.fd = new KernelFd(fd);
        this.connected = connected;
        if (connected) {
            onConnected();
        }
    }

    @Override
    public SocketType type() {
        return type;
    }

    // ------------------------------------------------------------------------------------------------
    // bind, connect, listen, accept

    @Override
    public void bind(VsockAddress local) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = a.allocate(LinuxAbi.SOCKADDR_VM_BYTES, 4);
            SockaddrVm.write(addr, local);
            fd.begin();
            int r;
            try {
                r = Native.bind(Native.errnoCell(a), fd.fd, addr);
            } finally {
                fd.end();
            }
            if (r < 0) {
                throw NativeErrors.exception(-r, "bind to " + local);
            }
        }
    }

    @Override
    public void connect(VsockAddress remote, long timeoutNanos) throws IOException {
        provider.checkConnect(remote);
        lockInterruptibly(writeLock);
        try {
            fd.ensureOpen();
            if (connected) {
                throw Errno.EISCONN.exception("already connected to " + remoteAddress());
            }
            long timeout = timeoutNanos > 0 ? timeoutNanos : getOption(VsockOptions.CONNECT_TIMEOUT).toNanos();
            new KernelConnect(this, fd, writeScratch, remote).run(timeout, KERNEL_TIMER_SLACK_NANOS);
            connected = true;
            onConnected();
        } finally {
            writeLock.unlock();
        }
    }

    /** A SEQPACKET connection sends in blocking mode (see the class comment). */
    private void onConnected() throws IOException {
        remote = name(true);
        if (type == SocketType.SEQPACKET) {
            fd.begin();
            try {
                KernelConnect.setNonBlocking(fd, false);
            } finally {
                fd.end();
            }
        }
    }

    @Override
    public void listen(int backlog) throws IOException {
        provider.checkListen();
        int r;
        try (Arena a = Arena.ofConfined()) {
            fd.begin();
            try {
                r = Native.listen(Native.errnoCell(a), fd.fd, backlog);
            } finally {
                fd.end();
            }
        }
        if (r < 0) {
            throw NativeErrors.exception(-r, "listen on " + localAddress());
        }
        listening = true;
    }

    @Override
    public SocketHandle accept(long timeoutNanos) throws IOException {
        lockInterruptibly(readLock);
        try {
            long deadline = Deadlines.after(timeoutNanos);
            int flags = LinuxAbi.SOCK_CLOEXEC | (type == SocketType.STREAM ? LinuxAbi.SOCK_NONBLOCK : 0);
            while (true) {
                fd.begin();
                int r;
                try {
                    r = Native.accept4(readScratch, fd.fd, flags);
                } finally {
                    fd.end();
                }
                if (r >= 0) {
                    // A SEQPACKET child is accepted in blocking mode for its sends (see the class comment).
                    return new KernelSocket(provider, type, r, true);
                }
                if (r != -Errno.EAGAIN.number()) {
                    throw NativeErrors.exception(-r, "accept on " + localAddress());
                }
                if (Deadlines.passed(deadline)) {
                    throw Errno.EAGAIN.exception("accept on " + localAddress() + " timed out");
                }
                fd.await(Poller.READ, deadline, readScratch);
            }
        } finally {
            readLock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Non-blocking use (Readiness)

    @Override
    public int readyOps() {
        if (fd.isClosed()) {
            return Readiness.READABLE | Readiness.WRITABLE;
        }
        int revents;
        pollLock.lock();
        try {
            fd.begin();
            try {
                revents = Native.pollNow(pollScratch, pollScratch.asSlice(32, 8), fd.fd,
                        (short) (LinuxAbi.POLLIN | LinuxAbi.POLLOUT));
            } finally {
                fd.end();
            }
        } catch (IOException closed) {
            return Readiness.READABLE | Readiness.WRITABLE;
        } finally {
            pollLock.unlock();
        }
        if (revents < 0) {
            return Readiness.READABLE | Readiness.WRITABLE; // the calls will report what poll(2) met
        }
        boolean in = (revents & (LinuxAbi.POLLIN | LinuxAbi.POLLERR | LinuxAbi.POLLHUP)) != 0;
        boolean out = (revents & (LinuxAbi.POLLOUT | LinuxAbi.POLLERR | LinuxAbi.POLLHUP)) != 0;
        if (listening) {
            return in ? Readiness.ACCEPTABLE : 0;
        }
        KernelConnect pending = pendingConnect;
        if (pending != null) {
            return out || Deadlines.passed(pending.deadline()) ? Readiness.CONNECTED : 0;
        }
        if (!connected) {
            return 0;
        }
        return (in ? Readiness.READABLE : 0) | (out ? Readiness.WRITABLE : 0);
    }

    @Override
    public void setReadinessListener(Readiness.Listener listener) {
        readinessListener = listener;
        try {
            fd.begin();
            try {
                if (listener == null) {
                    ReadinessPoller.INSTANCE.forget(fd.fd);
                } else {
                    ReadinessPoller.INSTANCE.watch(fd.fd, listener);
                }
            } finally {
                fd.end();
            }
        } catch (IOException e) {
            if (!fd.isClosed()) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    @Override
    public void startConnect(VsockAddress remote, long timeoutNanos) throws IOException {
        provider.checkConnect(remote);
        lockInterruptibly(writeLock);
        try {
            fd.ensureOpen();
            if (connected) {
                throw Errno.EISCONN.exception("already connected to " + remoteAddress());
            }
            if (pendingConnect != null) {
                throw Errno.EALREADY.exception("connect to " + remote + " in progress");
            }
            long timeout = timeoutNanos > 0 ? timeoutNanos : getOption(VsockOptions.CONNECT_TIMEOUT).toNanos();
            KernelConnect c = new KernelConnect(this, fd, writeScratch, remote);
            if (c.start(timeout, KERNEL_TIMER_SLACK_NANOS)) {
                connected = true;
                onConnected();
                tellListener();
                return;
            }
            pendingConnect = c;
            // Our deadline, not the kernel's timer, ends the attempt: the loop must look again then.
            ReadinessPoller.INSTANCE.schedule(this::tellListener, timeout);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public boolean finishConnect() throws IOException {
        lockInterruptibly(writeLock);
        try {
            fd.ensureOpen();
            if (connected) {
                return true;
            }
            KernelConnect c = pendingConnect;
            if (c == null) {
                throw Errno.ENOTCONN.exception("finishConnect on a socket with no connect started");
            }
            boolean done;
            try {
                done = c.poll();
            } catch (IOException | RuntimeException e) {
                pendingConnect = null; // the socket is unconnected again and may connect anew
                throw e;
            }
            if (!done) {
                return false;
            }
            pendingConnect = null;
            connected = true;
            onConnected();
            return true;
        } finally {
            writeLock.unlock();
        }
    }

    private void tellListener() {
        Readiness.Listener l = readinessListener;
        if (l != null) {
            l.readinessChanged();
        }
    }

    @Override
    public SocketHandle tryAccept() throws IOException {
        lockInterruptibly(readLock);
        try {
            if (!listening) {
                throw Errno.EINVAL.exception("accept on a socket that is not listening");
            }
            int flags = LinuxAbi.SOCK_CLOEXEC | (type == SocketType.STREAM ? LinuxAbi.SOCK_NONBLOCK : 0);
            int r;
            fd.begin();
            try {
                r = Native.accept4(readScratch, fd.fd, flags);
            } finally {
                fd.end();
            }
            if (r >= 0) {
                return new KernelSocket(provider, type, r, true);
            }
            if (r == -Errno.EAGAIN.number()) {
                return null;
            }
            throw NativeErrors.exception(-r, "accept on " + localAddress());
        } finally {
            readLock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Data

    @Override
    public int send(byte[] src, int off, int len, int flags, long timeoutNanos) throws IOException {
        lockInterruptibly(writeLock);
        try {
            return KernelIo.send(this, fd, writeScratch, src, off, len, flags, Deadlines.after(timeoutNanos));
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * A direct buffer's native memory goes to the kernel as it is, with no copy in Java; a heap buffer and
     * SEQPACKET take the array path.
     */
    @Override
    public int send(java.nio.ByteBuffer src, int flags, long timeoutNanos) throws IOException {
        if (!src.isDirect() || type != SocketType.STREAM) {
            return SocketHandle.super.send(src, flags, timeoutNanos);
        }
        lockInterruptibly(writeLock);
        try {
            int n = KernelIo.sendStream(this, fd, writeScratch, MemorySegment.ofBuffer(src), 0, src.remaining(), flags,
                    Deadlines.after(timeoutNanos));
            src.position(src.position() + n);
            return n;
        } finally {
            writeLock.unlock();
        }
    }

    /** A direct buffer is filled by the kernel in place, as {@link #send(java.nio.ByteBuffer, int, long)} sends one. */
    @Override
    public int receive(java.nio.ByteBuffer dst, int flags, long timeoutNanos) throws IOException {
        if (!dst.isDirect() || type != SocketType.STREAM) {
            return SocketHandle.super.receive(dst, flags, timeoutNanos);
        }
        if (dst.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        lockInterruptibly(readLock);
        try {
            int n = KernelIo.receiveStream(this, fd, readScratch, MemorySegment.ofBuffer(dst), 0, dst.remaining(), flags,
                    Deadlines.after(timeoutNanos), null);
            if (n > 0) {
                dst.position(dst.position() + n);
            }
            return n;
        } finally {
            readLock.unlock();
        }
    }

    @Override
    public int receive(byte[] dst, int off, int len, int flags, long timeoutNanos, MessageInfo info) throws IOException {
        lockInterruptibly(readLock);
        try {
            long deadline = Deadlines.after(timeoutNanos);
            if (type == SocketType.SEQPACKET) {
                return KernelIo.receiveMessage(this, fd, readScratch, messageBuffers(len), dst, off, len, flags, deadline, info);
            }
            return KernelIo.receiveStream(this, fd, readScratch, dst, off, len, flags, deadline, info);
        } finally {
            readLock.unlock();
        }
    }

    /** recvmsg's msghdr (56 bytes) + iovec (16) and a data buffer of at least {@code len}; under readLock. */
    private MemorySegment[] messageBuffers(int len) {
        if (msghdr == null) {
            msghdr = Arena.ofAuto().allocate(72, 8);
        }
        if (recvBuffer == null || recvBuffer.byteSize() < Math.max(len, 1)) {
            recvBuffer = Arena.ofAuto().allocate(Math.max(len, 4096), 8);
        }
        return new MemorySegment[] {msghdr, recvBuffer};
    }

    @Override
    public void shutdown(int how) throws IOException {
        if (how < MessageFlags.SHUTDOWN_RECEIVE || how > MessageFlags.SHUTDOWN_BOTH) {
            throw Errno.EINVAL.exception("shutdown how=" + how);
        }
        int r;
        try (Arena a = Arena.ofConfined()) {
            fd.begin();
            try {
                r = Native.shutdown(Native.errnoCell(a), fd.fd, how - 1); // SHUT_RD = 0 = RCV_SHUTDOWN - 1
            } finally {
                fd.end();
            }
        }
        if (r < 0) {
            throw NativeErrors.exception(-r, "shutdown on " + localAddress());
        }
    }

    @Override
    public int available() throws IOException {
        return KernelIo.queued(this, fd, LinuxAbi.SIOCINQ);
    }

    @Override
    public int unacknowledged() throws IOException {
        return KernelIo.queued(this, fd, LinuxAbi.SIOCOUTQ);
    }

    // ------------------------------------------------------------------------------------------------
    // State and options

    @Override
    public VsockAddress localAddress() {
        VsockAddress a = name(false);
        if (a == null || (a.cid() == VsockAddress.CID_ANY && a.port() == VsockAddress.PORT_ANY)) {
            return null; // unbound
        }
        return a;
    }

    @Override
    public VsockAddress remoteAddress() {
        return connected ? remote : null;
    }

    /** getsockname/getpeername, or null when the kernel has none (or the socket is closed). */
    private VsockAddress name(boolean peer) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = a.allocate(LinuxAbi.SOCKADDR_VM_BYTES, 4);
            MemorySegment len = a.allocate(JAVA_INT);
            MemorySegment e = Native.errnoCell(a);
            try {
                fd.begin();
            } catch (IOException closed) {
                return null;
            }
            try {
                int r = peer ? Native.getpeername(e, fd.fd, addr, len) : Native.getsockname(e, fd.fd, addr, len);
                return r < 0 ? null : SockaddrVm.read(addr);
            } finally {
                fd.end();
            }
        }
    }

    @Override
    public boolean isConnected() {
        return connected && !fd.isClosed();
    }

    @Override
    public boolean isClosed() {
        return fd.isClosed();
    }

    @Override
    public <T> void setOption(SocketOption<T> option, T value) throws IOException {
        fd.begin();
        try {
            KernelOptions.set(fd.fd, option, value);
        } finally {
            fd.end();
        }
        if (option == VsockOptions.SO_RCVLOWAT) {
            rcvLowat = (Integer) value;
        }
    }

    @Override
    public <T> T getOption(SocketOption<T> option) throws IOException {
        fd.begin();
        try {
            return KernelOptions.get(fd.fd, option);
        } finally {
            fd.end();
        }
    }

    SocketType socketType() {
        return type;
    }

    int rcvLowat() {
        return rcvLowat;
    }

    boolean connectedFlag() {
        return connected;
    }

    Duration connectTimeoutOption() throws IOException {
        return getOption(VsockOptions.CONNECT_TIMEOUT);
    }

    // ------------------------------------------------------------------------------------------------
    // close

    /**
     * close(2), after waking every waiting thread. A connected SEQPACKET socket is shut down first: a
     * sender waiting inside the kernel for the peer's buffer returns (EPIPE, reported as "Socket closed").
     */
    @Override
    public void close() {
        if (readinessListener != null) {
            ReadinessPoller.INSTANCE.forget(fd.fd); // before close(2): the number may be reused at once
        }
        fd.close(type == SocketType.SEQPACKET && connected ? this::shutdownQuietly : null);
        tellListener(); // its calls now fail at once: READABLE and WRITABLE
    }

    private void shutdownQuietly() {
        try (Arena a = Arena.ofConfined()) {
            Native.shutdown(Native.errnoCell(a), fd.fd, MessageFlags.SHUTDOWN_BOTH - 1);
        }
    }

    /** Takes a direction lock; an interrupt while waiting for it closes the socket, as a blocked call would. */
    private void lockInterruptibly(ReentrantLock lock) throws IOException {
        try {
            lock.lockInterruptibly();
        } catch (InterruptedException e) {
            throw Interruption.closeSocket(this::close, e);
        }
    }

    static InterruptedIOException timeout(String what, int bytesTransferred) {
        InterruptedIOException t = (InterruptedIOException) Errno.EAGAIN.exception(what);
        t.bytesTransferred = bytesTransferred;
        return t;
    }

    @Override
    public String toString() {
        return "KernelSocket[" + type + " " + fd + (listening ? " listening" : "") + (connected ? " connected" : "") + "]";
    }
}
