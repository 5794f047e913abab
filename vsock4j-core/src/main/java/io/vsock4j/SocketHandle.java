package io.vsock4j;


import java.io.Closeable;
import java.io.IOException;
import java.net.SocketOption;

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

    /** close(2): never throws for an already closed socket. */
    @Override
    void close() throws IOException;
}
