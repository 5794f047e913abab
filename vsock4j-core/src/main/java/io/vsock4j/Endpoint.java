package io.vsock4j;


import java.io.IOException;
import java.net.SocketOption;
import java.util.concurrent.TimeUnit;

/**
 * What the stream and SEQPACKET sockets share: the handle, the connect/bind/shutdown calls and the
 * Java-side timeouts (SO_TIMEOUT for receives, a send timeout) that become per-call deadlines. The
 * timeouts are volatile so a setter on one thread takes effect for the next call on another.
 */
final class Endpoint {
    final SocketHandle handle;
    private volatile int receiveTimeoutMillis;
    private volatile int sendTimeoutMillis;

    Endpoint(SocketHandle handle) {
        this.handle = handle;
    }

    void bind(VsockAddress local) throws IOException {
        handle.bind(local == null ? VsockAddress.any() : local);
    }

    void connect(VsockAddress remote, int timeoutMillis) throws IOException {
        if (remote == null) {
            throw new IllegalArgumentException("connect needs an address");
        }
        if (timeoutMillis < 0) {
            throw new IllegalArgumentException("connect timeout is negative: " + timeoutMillis);
        }
        // Unlike java.net.Socket, a refused or timed-out connect leaves the socket open: the kernel lets
        // a vsock socket retry connect after a failure.
        handle.connect(remote, TimeUnit.MILLISECONDS.toNanos(timeoutMillis));
    }

    long receiveTimeoutNanos() {
        return TimeUnit.MILLISECONDS.toNanos(receiveTimeoutMillis);
    }

    long sendTimeoutNanos() {
        return TimeUnit.MILLISECONDS.toNanos(sendTimeoutMillis);
    }

    void setReceiveTimeout(int millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("timeout is negative: " + millis);
        }
        receiveTimeoutMillis = millis;
    }

    int receiveTimeout() {
        return receiveTimeoutMillis;
    }

    void setSendTimeout(int millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("timeout is negative: " + millis);
        }
        sendTimeoutMillis = millis;
    }

    int sendTimeout() {
        return sendTimeoutMillis;
    }

    void shutdown(int how) throws IOException {
        handle.shutdown(how);
    }

    <T> void setOption(SocketOption<T> option, T value) throws IOException {
        handle.setOption(option, value);
    }

    <T> T getOption(SocketOption<T> option) throws IOException {
        return handle.getOption(option);
    }

    static void checkRange(byte[] b, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
    }

    @Override
    public String toString() {
        VsockAddress local = handle.localAddress();
        VsockAddress remote = handle.remoteAddress();
        return "[" + (local == null ? "unbound" : local) + (remote == null ? "" : " -> " + remote)
                + (handle.isClosed() ? ", closed" : "") + "]";
    }
}
