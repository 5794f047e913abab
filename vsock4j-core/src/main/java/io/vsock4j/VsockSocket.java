package io.vsock4j;


import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketOption;

/**
 * A vsock stream socket (SOCK_STREAM), shaped like {@link java.net.Socket}: connect, streams, half-close,
 * SO_TIMEOUT. The same class serves every transport; the provider decides which.
 *
 * <p>Contract, as java.net.Socket and the kernel specify it:
 * <ul>
 *   <li>{@link #connect} blocks until the peer accepts; nobody listening fails at once with
 *       {@link java.net.ConnectException} "ECONNRESET"; no answer in time gives
 *       {@link java.net.SocketTimeoutException} "ETIMEDOUT". A failed connect may be retried.</li>
 *   <li>Reads block until data, EOF (-1 after the peer's shutdownOutput or close, once the data is
 *       drained) or the SO_TIMEOUT ({@link java.net.SocketTimeoutException}; the socket stays usable).</li>
 *   <li>Writes block while the peer's buffer is full (credit); after {@link #shutdownOutput} or the
 *       peer's shutdownInput they fail with {@link java.net.SocketException} "EPIPE".</li>
 *   <li>{@link #close} from any thread wakes blocked threads with "Socket closed"; interrupting a
 *       blocked thread (platform or virtual) closes the socket and throws
 *       {@link java.nio.channels.ClosedByInterruptException}.</li>
 * </ul>
 * Thread-safe: one thread may read while another writes.
 */
public final class VsockSocket implements Closeable {
    private final Endpoint endpoint;
    private final InputStream in;
    private final OutputStream out;

    private VsockSocket(SocketHandle handle) {
        this.endpoint = new Endpoint(handle);
        this.in = new SocketInputStream();
        this.out = new SocketOutputStream();
    }

    /** An unconnected stream socket on the default provider ({@link Vsock#defaultProvider()}). */
    public static VsockSocket open() throws IOException {
        return open(Vsock.defaultProvider());
    }

    /** An unconnected stream socket on {@code provider}. */
    public static VsockSocket open(SocketProvider provider) throws IOException {
        return new VsockSocket(provider.open(SocketType.STREAM));
    }

    /** Wraps an accepted or otherwise opened STREAM handle. */
    public static VsockSocket wrap(SocketHandle handle) {
        if (handle.type() != SocketType.STREAM) {
            throw new IllegalArgumentException("not a stream socket: " + handle.type());
        }
        return new VsockSocket(handle);
    }

    /** Opens a socket on {@code provider} and connects it to {@code remote}. */
    public static VsockSocket connect(SocketProvider provider, VsockAddress remote) throws IOException {
        VsockSocket s = open(provider);
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

    /** Connects within the CONNECT_TIMEOUT option (2 s by default). */
    public void connect(VsockAddress remote) throws IOException {
        endpoint.connect(remote, 0);
    }

    /** Connects within {@code timeoutMillis}; 0 means the CONNECT_TIMEOUT option. */
    public void connect(VsockAddress remote, int timeoutMillis) throws IOException {
        endpoint.connect(remote, timeoutMillis);
    }

    public InputStream getInputStream() {
        return in;
    }

    public OutputStream getOutputStream() {
        return out;
    }

    /**
     * recv(2) with flags: {@link MessageFlags#MSG_PEEK}, {@link MessageFlags#MSG_DONTWAIT},
     * {@link MessageFlags#MSG_WAITALL}. Returns bytes read, -1 at EOF, 0 with MSG_DONTWAIT and nothing queued.
     */
    public int receive(byte[] b, int off, int len, int flags) throws IOException {
        Endpoint.checkRange(b, off, len);
        return endpoint.handle.receive(b, off, len, flags, endpoint.receiveTimeoutNanos(), null);
    }

    /**
     * send(2) with flags (MSG_DONTWAIT): returns the bytes sent, which with MSG_DONTWAIT may be fewer
     * than {@code len}, or 0 when the peer has no room.
     */
    public int send(byte[] b, int off, int len, int flags) throws IOException {
        Endpoint.checkRange(b, off, len);
        return endpoint.handle.send(b, off, len, flags, endpoint.sendTimeoutNanos());
    }

    /** SO_TIMEOUT: how long a read waits, in ms; 0 forever. */
    public void setSoTimeout(int millis) {
        endpoint.setReceiveTimeout(millis);
    }

    public int getSoTimeout() {
        return endpoint.receiveTimeout();
    }

    /**
     * SO_SNDTIMEO: how long a write waits for credit, in ms; 0 forever. A write that times out throws
     * {@link java.net.SocketTimeoutException} whose {@code bytesTransferred} counts what was sent.
     */
    public void setSendTimeout(int millis) {
        endpoint.setSendTimeout(millis);
    }

    public int getSendTimeout() {
        return endpoint.sendTimeout();
    }

    /** shutdown(SHUT_RD): reads return EOF; the peer's writes fail with EPIPE. */
    public void shutdownInput() throws IOException {
        endpoint.shutdown(MessageFlags.SHUTDOWN_RECEIVE);
    }

    /** shutdown(SHUT_WR): the peer reads EOF once it drained what was sent; this side can still read. */
    public void shutdownOutput() throws IOException {
        endpoint.shutdown(MessageFlags.SHUTDOWN_SEND);
    }

    public <T> VsockSocket setOption(SocketOption<T> option, T value) throws IOException {
        endpoint.setOption(option, value);
        return this;
    }

    public <T> T getOption(SocketOption<T> option) throws IOException {
        return endpoint.getOption(option);
    }

    /** SIOCINQ: bytes that can be read without blocking. */
    public int available() throws IOException {
        return endpoint.handle.available();
    }

    /** SIOCOUTQ: bytes sent that the peer has not yet read. */
    public int unacknowledged() throws IOException {
        return endpoint.handle.unacknowledged();
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

    /** The transport-level socket under this one, for tools that need the engine's view. */
    public SocketHandle handle() {
        return endpoint.handle;
    }

    @Override
    public void close() throws IOException {
        endpoint.handle.close();
    }

    @Override
    public String toString() {
        return "VsockSocket" + endpoint;
    }

    private final class SocketInputStream extends InputStream {
        private final byte[] one = new byte[1];

        @Override
        public int read() throws IOException {
            synchronized (one) {
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xFF;
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Endpoint.checkRange(b, off, len);
            if (len == 0) {
                return 0;
            }
            return endpoint.handle.receive(b, off, len, 0, endpoint.receiveTimeoutNanos(), null);
        }

        @Override
        public int available() throws IOException {
            return endpoint.handle.available();
        }

        /** Closing either stream closes the socket, as java.net.Socket's streams do. */
        @Override
        public void close() throws IOException {
            VsockSocket.this.close();
        }
    }

    private final class SocketOutputStream extends OutputStream {
        private final byte[] one = new byte[1];

        @Override
        public void write(int b) throws IOException {
            synchronized (one) {
                one[0] = (byte) b;
                write(one, 0, 1);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Endpoint.checkRange(b, off, len);
            int done = 0;
            try {
                while (done < len) {
                    // A short count means the connection failed part way; the next call reports why.
                    done += endpoint.handle.send(b, off + done, len - done, 0, endpoint.sendTimeoutNanos());
                }
            } catch (java.io.InterruptedIOException timeout) {
                timeout.bytesTransferred += done;
                throw timeout;
            }
        }

        @Override
        public void close() throws IOException {
            VsockSocket.this.close();
        }
    }
}
