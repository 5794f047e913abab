package io.vsock4j;


import java.io.Closeable;
import java.io.IOException;
import java.net.SocketOption;
import java.nio.ByteBuffer;

/**
 * One vsock socket of a {@link SocketProvider}: the operations of the BSD socket calls, with the kernel's
 * semantics, that the public socket classes are built on. A transport that owns whole sockets (the
 * kernel's AF_VSOCK) implements this directly; the Java engine implements it once for every
 * packet transport.
 *
 * <p>Thread-safety: every method may be called from any thread, and blocking calls may run in several
 * threads at once (one reader and one writer, say). A blocking call returns, or throws, when the
 * socket is closed by another thread ({@link java.net.SocketException} "Socket closed") or the calling
 * thread is interrupted (the socket is closed and {@link java.nio.channels.ClosedByInterruptException}
 * is thrown, the interrupt status left set).
 *
 * <p>Timeouts are in nanoseconds; 0 means wait forever. Failures are the kernel's errno cases as
 * {@link io.vsock4j.spi.Errno#exception}.
 *
 * <h2>Non-blocking use, for event loops</h2>
 * {@link #readyOps()} says without blocking which calls would make progress ({@link Readiness}), and a
 * {@link Readiness.Listener} set with {@link #setReadinessListener} is told whenever that may have changed.
 * With them go the calls that never wait: {@link #startConnect} and {@link #finishConnect}, {@link #tryAccept},
 * and {@code send}/{@code receive} with {@link MessageFlags#MSG_DONTWAIT}. The Java engine implements
 * them on every packet transport, and the kernel's sockets through poll(2) and epoll; an implementation
 * without them throws {@link UnsupportedOperationException} from the readiness calls, saying so.
 */
public interface SocketHandle extends Closeable {
    SocketType type();

    /** bind(2). EINVAL if already bound, EADDRNOTAVAIL, EADDRINUSE, EACCES as the kernel. */
    void bind(VsockAddress local) throws IOException;

    /**
     * connect(2), blocking until the peer answers. A {@code timeoutNanos} of 0 uses the socket's
     * {@code CONNECT_TIMEOUT} option. ECONNRESET when nobody listens, ETIMEDOUT, EISCONN, ENODEV.
     */
    void connect(VsockAddress remote, long timeoutNanos) throws IOException;

    /** listen(2). EINVAL unless bound and unconnected. */
    void listen(int backlog) throws IOException;

    /** accept(2), blocking up to {@code timeoutNanos} (EAGAIN as a timeout). */
    SocketHandle accept(long timeoutNanos) throws IOException;

    /**
     * send(2). STREAM sends all of {@code len} unless MSG_DONTWAIT (then possibly less, or 0); SEQPACKET
     * sends one whole message. Returns the bytes sent. EPIPE, ENOTCONN, EMSGSIZE, EAGAIN on timeout (the
     * exception's {@code bytesTransferred} counts what went).
     */
    int send(byte[] src, int off, int len, int flags, long timeoutNanos) throws IOException;

    /**
     * recv(2)/recvmsg(2). Returns bytes read, -1 at EOF (where the kernel returns 0), and 0 only for a
     * zero-length buffer or MSG_DONTWAIT with nothing queued. SEQPACKET returns one message per call,
     * truncated to {@code len} (or its real length when MSG_TRUNC is passed); {@code info}, when not null,
     * gets the real length and the out-flags.
     */
    int receive(byte[] dst, int off, int len, int flags, long timeoutNanos, MessageInfo info) throws IOException;

    /** shutdown(2) with how in {@link io.vsock4j.MessageFlags#SHUTDOWN_RECEIVE} ... BOTH. ENOTCONN if not connected. */
    void shutdown(int how) throws IOException;

    /** Bytes queued for reading (SIOCINQ). */
    int available() throws IOException;

    /** Bytes sent but not yet consumed by the peer (SIOCOUTQ). */
    int unacknowledged() throws IOException;

    /** The bound address, or null when unbound. */
    VsockAddress localAddress();

    /** The peer's address, or null when not connected. */
    VsockAddress remoteAddress();

    boolean isConnected();

    boolean isClosed();

    <T> void setOption(SocketOption<T> option, T value) throws IOException;

    <T> T getOption(SocketOption<T> option) throws IOException;

    // ------------------------------------------------------------------------------------------------
    // Non-blocking use (see the class comment and Readiness). Any thread may call these; none blocks
    // for longer than the engine's short internal locks.

    /** The {@link Readiness} bits that hold now: which non-blocking calls would make progress. */
    default int readyOps() {
        throw noReadiness("readyOps");
    }

    /**
     * Sets the one listener told whenever {@link #readyOps()} may have changed (null: none), replacing any
     * earlier one. Changes from before the call are not announced: ask {@link #readyOps()} once after
     * setting it. The listener runs on engine and transport threads, possibly under internal locks; see
     * {@link Readiness.Listener} for what it may do.
     */
    default void setReadinessListener(Readiness.Listener listener) {
        throw noReadiness("setReadinessListener");
    }

    /**
     * connect(2) on a non-blocking socket: sends REQUEST and returns at once (the kernel's EINPROGRESS).
     * {@link Readiness#CONNECTED} turns on when the answer came or {@code timeoutNanos} passed (0: the
     * socket's {@code CONNECT_TIMEOUT}); then {@link #finishConnect()} tells which. EISCONN, EALREADY,
     * EINVAL on a listener, ENODEV (no route) at once, as {@link #connect}.
     */
    default void startConnect(VsockAddress remote, long timeoutNanos) throws IOException {
        throw noReadiness("startConnect");
    }

    /**
     * The end of a {@link #startConnect}: true once connected, false while the answer is still awaited.
     * Throws the connect's failure as {@link #connect} would (ECONNRESET when nobody listens, ETIMEDOUT);
     * the socket is then bound and unconnected, and may connect again. ENOTCONN when no connect was started.
     */
    default boolean finishConnect() throws IOException {
        throw noReadiness("finishConnect");
    }

    /** accept(2) on a non-blocking listener: a queued connection, or null when none is (never waits). */
    default SocketHandle tryAccept() throws IOException {
        throw noReadiness("tryAccept");
    }

    /**
     * {@link #send(byte[], int, int, int, long)} from {@code src}'s remaining bytes, advancing its position
     * by what was sent. By default a heap buffer is sent from its array and a direct one through a
     * temporary array; the Java engine's sockets and the kernel's copy from a direct buffer directly.
     */
    default int send(ByteBuffer src, int flags, long timeoutNanos) throws IOException {
        int len = src.remaining();
        int n;
        if (src.hasArray()) {
            n = send(src.array(), src.arrayOffset() + src.position(), len, flags, timeoutNanos);
        } else {
            byte[] copy = new byte[len];
            src.get(src.position(), copy);
            n = send(copy, 0, len, flags, timeoutNanos);
        }
        src.position(src.position() + n);
        return n;
    }

    /**
     * {@link #receive(byte[], int, int, int, long, MessageInfo)} into {@code dst}'s remaining space,
     * advancing its position by what was read (nothing at EOF, which returns -1).
     */
    default int receive(ByteBuffer dst, int flags, long timeoutNanos) throws IOException {
        int n;
        if (dst.hasArray()) {
            n = receive(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining(), flags, timeoutNanos, null);
            if (n > 0) {
                dst.position(dst.position() + n);
            }
        } else {
            byte[] copy = new byte[dst.remaining()];
            n = receive(copy, 0, copy.length, flags, timeoutNanos, null);
            if (n > 0) {
                dst.put(copy, 0, n);
            }
        }
        return n;
    }

    private UnsupportedOperationException noReadiness(String call) {
        return new UnsupportedOperationException(call + ": " + getClass().getSimpleName()
                + " has no non-blocking readiness API yet (the Java engine's sockets have it; see io.vsock4j.Readiness)");
    }

    /** close(2): never throws for an already closed socket. */
    @Override
    void close() throws IOException;
}
