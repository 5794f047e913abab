package io.vsock4j;


import java.io.Closeable;
import java.io.IOException;
import java.net.SocketOption;

/**
 * A listening vsock stream socket, shaped like {@link java.net.ServerSocket}: {@link #bind} binds and
 * listens, {@link #accept} returns a connected {@link VsockSocket}. Accepted sockets inherit the listener's
 * buffer options. A connect that finds the accept queue over its backlog is reset (the client sees
 * "ECONNRESET"). Closing the listener wakes a blocked {@code accept} with "Socket closed" and resets
 * connections that were queued but not accepted. Thread-safe.
 */
public final class VsockServerSocket implements Closeable {
    private final Listener listener;

    private VsockServerSocket(Listener listener) {
        this.listener = listener;
    }

    /** An unbound listener on the default provider. */
    public static VsockServerSocket open() throws IOException {
        return open(Vsock.defaultProvider());
    }

    public static VsockServerSocket open(SocketProvider provider) throws IOException {
        return new VsockServerSocket(new Listener(provider.open(SocketType.STREAM)));
    }

    /** Opens, binds {@code local} and listens with the default backlog. */
    public static VsockServerSocket bind(SocketProvider provider, VsockAddress local) throws IOException {
        VsockServerSocket s = open(provider);
        try {
            s.bind(local);
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** bind(2) then listen(2) with a backlog of 50. */
    public void bind(VsockAddress local) throws IOException {
        listener.bind(local, Listener.DEFAULT_BACKLOG);
    }

    /** bind(2) then listen(2); a backlog of 0 or less means 50. */
    public void bind(VsockAddress local, int backlog) throws IOException {
        listener.bind(local, backlog);
    }

    /** Waits for a connection, at most SO_TIMEOUT ({@link java.net.SocketTimeoutException}). */
    public VsockSocket accept() throws IOException {
        return VsockSocket.wrap(listener.accept());
    }

    public void setSoTimeout(int millis) {
        listener.setTimeout(millis);
    }

    public int getSoTimeout() {
        return listener.timeout();
    }

    public <T> VsockServerSocket setOption(SocketOption<T> option, T value) throws IOException {
        listener.setOption(option, value);
        return this;
    }

    public <T> T getOption(SocketOption<T> option) throws IOException {
        return listener.getOption(option);
    }

    public VsockAddress getLocalAddress() {
        return listener.handle.localAddress();
    }

    public boolean isClosed() {
        return listener.handle.isClosed();
    }

    @Override
    public void close() throws IOException {
        listener.handle.close();
    }

    @Override
    public String toString() {
        return "VsockServerSocket" + listener;
    }
}
