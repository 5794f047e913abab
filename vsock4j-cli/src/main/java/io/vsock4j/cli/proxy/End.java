package io.vsock4j.cli.proxy;

import io.vsock4j.VsockSocket;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/**
 * One connected socket of a proxied connection, vsock or TCP, as the relay sees it: a stream in, a stream
 * out, a half-close and a close. Half-close is the whole bridge between the protocols: {@code shutdownOutput}
 * sends a TCP FIN on TCP and a SHUTDOWN (SEND) on vsock, and the peer's reads then end (-1) either way.
 * Both kinds block in write while the peer has no room (TCP window, vsock credit): that is the backpressure.
 * {@link #close()} from any thread wakes a read or write blocked in another; it is idempotent.
 *
 * @param peer for messages: where the peer is
 */
record End(InputStream in, OutputStream out, HalfClose halfClose, Closeable socket, String peer) implements Closeable {
    /** The socket's own shutdownOutput. */
    @FunctionalInterface
    interface HalfClose {
        void shutdownOutput() throws IOException;
    }

    static End of(Socket s) throws IOException {
        return new End(s.getInputStream(), s.getOutputStream(), s::shutdownOutput, s, "tcp " + s.getRemoteSocketAddress());
    }

    static End of(VsockSocket s) {
        return new End(s.getInputStream(), s.getOutputStream(), s::shutdownOutput, s, "vsock " + s.getRemoteAddress());
    }

    /** Sends end-of-stream to the peer; reading on continues. */
    void shutdownOutput() throws IOException {
        halfClose.shutdownOutput();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing is best effort: the socket is released either way
        }
    }
}
