package io.vsock4j;


import java.io.Closeable;
import java.io.IOException;
import java.net.SocketOption;

/**
 * A vsock SEQPACKET socket: a connection that carries whole messages. Each {@link #send} is one message
 * and each {@link #receive} returns one, with the kernel's semantics:
 * <ul>
 *   <li>a receive buffer shorter than the message gets its first bytes; the rest is discarded and
 *       {@link MessageInfo#truncated()} says so ({@link MessageFlags#MSG_TRUNC} in the flags argument
 *       makes the call return the real length instead of the copied one);</li>
 *   <li>a message sent with {@link MessageFlags#MSG_EOR} arrives with {@link MessageInfo#endOfRecord()};</li>
 *   <li>{@link MessageFlags#MSG_PEEK} returns the next message and leaves it queued;</li>
 *   <li>a message larger than the peer's buffer fails with "EMSGSIZE";</li>
 *   <li>a receive that waits longer than SO_TIMEOUT throws {@link java.net.SocketTimeoutException}
 *       ("EAGAIN"), the socket stays usable.</li>
 * </ul>
 * Blocking, close and interruption behave as for {@link VsockSocket}. Thread-safe.
 */
public final class VsockSeqpacketSocket implements Closeable {
    private final Endpoint endpoint;

    private VsockSeqpacketSocket(SocketHandle handle) {
        this.endpoint = new Endpoint(handle);
    }

    public static VsockSeqpacketSocket open() throws IOException {
        return open(Vsock.defaultProvider());
    }

    public static VsockSeqpacketSocket open(SocketProvider provider) throws IOException {
        return new VsockSeqpacketSocket(provider.open(SocketType.SEQPACKET));
    }

    /** Wraps an accepted or otherwise opened SEQPACKET handle. */
    public static VsockSeqpacketSocket wrap(SocketHandle handle) {
        if (handle.type() != SocketType.SEQPACKET) {
            throw new IllegalArgumentException("not a SEQPACKET socket: " + handle.type());
        }
        return new VsockSeqpacketSocket(handle);
    }

    /** Opens a socket on {@code provider} and connects it to {@code remote}. */
    public static VsockSeqpacketSocket connect(SocketProvider provider, VsockAddress remote) throws IOException {
        VsockSeqpacketSocket s = open(provider);
        try {
            s.connect(remote);
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    public void bind(VsockAddress local) throws IOException {
        endpoint.bind(local);
    }

    public void connect(VsockAddress remote) throws IOException {
        endpoint.connect(remote, 0);
    }

    public void connect(VsockAddress remote, int timeoutMillis) throws IOException {
        endpoint.connect(remote, timeoutMillis);
    }

    /** Sends {@code message} as one message. */
    public int send(byte[] message) throws IOException {
        return send(message, 0, message.length, 0);
    }

    /**
     * Sends {@code b[off, off+len)} as one message; flags {@link MessageFlags#MSG_EOR} and
     * {@link MessageFlags#MSG_DONTWAIT}. A zero-length message sends nothing, as in Linux.
     */
    public int send(byte[] b, int off, int len, int flags) throws IOException {
        Endpoint.checkRange(b, off, len);
        return endpoint.handle.send(b, off, len, flags, endpoint.sendTimeoutNanos());
    }

    /** Receives one message into {@code b}; returns the bytes copied, -1 at EOF. */
    public int receive(byte[] b) throws IOException {
        return receive(b, 0, b.length, 0, null);
    }

    /**
     * recvmsg(2): receives one message into {@code b[off, off+len)}.
     *
     * @param flags MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT
     * @param info  when not null, gets the message's real length and MSG_TRUNC / MSG_EOR
     * @return the bytes copied (the real length with MSG_TRUNC), -1 at EOF, 0 with MSG_DONTWAIT and nothing queued
     */
    public int receive(byte[] b, int off, int len, int flags, MessageInfo info) throws IOException {
        Endpoint.checkRange(b, off, len);
        return endpoint.handle.receive(b, off, len, flags, endpoint.receiveTimeoutNanos(), info);
    }

    public void setSoTimeout(int millis) {
        endpoint.setReceiveTimeout(millis);
    }

    public int getSoTimeout() {
        return endpoint.receiveTimeout();
    }

    public void setSendTimeout(int millis) {
        endpoint.setSendTimeout(millis);
    }

    public void shutdownInput() throws IOException {
        endpoint.shutdown(MessageFlags.SHUTDOWN_RECEIVE);
    }

    public void shutdownOutput() throws IOException {
        endpoint.shutdown(MessageFlags.SHUTDOWN_SEND);
    }

    public <T> VsockSeqpacketSocket setOption(SocketOption<T> option, T value) throws IOException {
        endpoint.setOption(option, value);
        return this;
    }

    public <T> T getOption(SocketOption<T> option) throws IOException {
        return endpoint.getOption(option);
    }

    public VsockAddress getLocalAddress() {
        return endpoint.handle.localAddress();
    }

    public VsockAddress getRemoteAddress() {
        return endpoint.handle.remoteAddress();
    }

    public boolean isConnected() {
        return endpoint.handle.isConnected();
    }

    public boolean isClosed() {
        return endpoint.handle.isClosed();
    }

    public SocketHandle handle() {
        return endpoint.handle;
    }

    @Override
    public void close() throws IOException {
        endpoint.handle.close();
    }

    @Override
    public String toString() {
        return "VsockSeqpacketSocket" + endpoint;
    }
}
