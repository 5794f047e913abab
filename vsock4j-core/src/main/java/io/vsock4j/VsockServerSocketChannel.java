package io.vsock4j;

import java.io.IOException;

/**
 * A listening vsock stream socket whose {@link #accept} gives {@link VsockSocketChannel}s, blocking or
 * not: in non-blocking mode accept returns null when nobody waits, and {@link Readiness#ACCEPTABLE} in
 * {@link #readyOps()} (announced to the {@link #setReadinessListener listener}) says when to try again.
 * Thread-safety: as the socket's.
 */
public final class VsockServerSocketChannel extends HandleChannel<VsockServerSocketChannel> {
    private VsockServerSocketChannel(SocketHandle handle) {
        super(handle);
    }

    @Override
    VsockServerSocketChannel self() {
        return this;
    }

    /** An unbound listener-to-be on {@code provider}. */
    public static VsockServerSocketChannel open(SocketProvider provider) throws IOException {
        return new VsockServerSocketChannel(provider.open(SocketType.STREAM));
    }

    /** An unbound listener-to-be on {@link Vsock#defaultProvider()}. */
    public static VsockServerSocketChannel open() throws IOException {
        return open(Vsock.defaultProvider());
    }

    /** bind(2) and listen(2) with the default backlog. */
    public VsockServerSocketChannel bind(VsockAddress local) throws IOException {
        return bind(local, 0);
    }

    /** bind(2) and listen(2); a {@code backlog} below 1 means 50, as {@link VsockServerSocket}. */
    public VsockServerSocketChannel bind(VsockAddress local, int backlog) throws IOException {
        ensureOpen();
        handle.bind(local);
        handle.listen(backlog < 1 ? Listener.DEFAULT_BACKLOG : backlog);
        return this;
    }

    /** The next connection (a blocking channel); in non-blocking mode null when none waits. */
    public VsockSocketChannel accept() throws IOException {
        ensureOpen();
        SocketHandle accepted = isBlocking() ? handle.accept(0) : handle.tryAccept();
        return accepted == null ? null : VsockSocketChannel.wrap(accepted);
    }

    @Override
    public String toString() {
        return "VsockServerSocketChannel[" + handle.localAddress() + (isBlocking() ? "" : ", non-blocking") + "]";
    }
}
