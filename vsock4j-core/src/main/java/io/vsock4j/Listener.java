package io.vsock4j;


import java.io.IOException;
import java.net.SocketOption;
import java.util.concurrent.TimeUnit;

/** What both server sockets share: bind-and-listen, accept with SO_TIMEOUT, options, close. */
final class Listener {
    /** The backlog when none is given, as java.net.ServerSocket's. */
    static final int DEFAULT_BACKLOG = 50;

    final SocketHandle handle;
    private volatile int acceptTimeoutMillis;

    Listener(SocketHandle handle) {
        this.handle = handle;
    }

    void bind(VsockAddress local, int backlog) throws IOException {
        handle.bind(local == null ? VsockAddress.any() : local);
        handle.listen(backlog <= 0 ? DEFAULT_BACKLOG : backlog);
    }

    SocketHandle accept() throws IOException {
        return handle.accept(TimeUnit.MILLISECONDS.toNanos(acceptTimeoutMillis));
    }

    void setTimeout(int millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("timeout is negative: " + millis);
        }
        acceptTimeoutMillis = millis;
    }

    int timeout() {
        return acceptTimeoutMillis;
    }

    <T> void setOption(SocketOption<T> option, T value) throws IOException {
        handle.setOption(option, value);
    }

    <T> T getOption(SocketOption<T> option) throws IOException {
        return handle.getOption(option);
    }

    @Override
    public String toString() {
        VsockAddress local = handle.localAddress();
        return "[" + (local == null ? "unbound" : local) + (handle.isClosed() ? ", closed" : "") + "]";
    }
}
