package io.vsock4j;

import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;

/**
 * What {@link VsockSocketChannel} and {@link VsockServerSocketChannel} share: the socket under the
 * channel, the blocking flag its calls consult, readiness, and open/close. Thread-safety: as the socket's.
 *
 * @param <C> the channel class, so {@link #configureBlocking} chains
 */
abstract sealed class HandleChannel<C extends HandleChannel<C>> implements Channel
        permits VsockSocketChannel, VsockServerSocketChannel {
    final SocketHandle handle;
    private volatile boolean blocking = true;

    HandleChannel(SocketHandle handle) {
        this.handle = handle;
    }

    abstract C self();

    /** Chooses blocking (true, the default) or non-blocking calls from now on. */
    public C configureBlocking(boolean block) {
        blocking = block;
        return self();
    }

    public boolean isBlocking() {
        return blocking;
    }

    /** The {@link Readiness} bits that hold now. */
    public int readyOps() {
        return handle.readyOps();
    }

    /** The listener told when {@link #readyOps()} may have changed; see {@link Readiness.Listener} for its limits. */
    public void setReadinessListener(Readiness.Listener listener) {
        handle.setReadinessListener(listener);
    }

    public VsockAddress getLocalAddress() {
        return handle.localAddress();
    }

    /** The socket under this channel, for options and the calls a channel does not have. */
    public SocketHandle handle() {
        return handle;
    }

    @Override
    public boolean isOpen() {
        return !handle.isClosed();
    }

    @Override
    public void close() throws IOException {
        handle.close();
    }

    void ensureOpen() throws ClosedChannelException {
        if (handle.isClosed()) {
            throw new ClosedChannelException();
        }
    }
}
