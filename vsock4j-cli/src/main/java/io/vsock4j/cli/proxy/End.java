package io.vsock4j.cli.proxy;

import io.vsock4j.VsockSocket;
import io.vsock4j.VsockSocketChannel;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;

/**
 * One connected socket of a proxied connection, vsock or TCP, as the relay sees it: a blocking byte
 * channel, a half-close and a close. Half-close is the whole bridge between the protocols:
 * {@code shutdownOutput} sends a TCP FIN on TCP and a SHUTDOWN (SEND) on vsock, and the peer's reads then
 * end (-1) either way. Both kinds block in write while the peer has no room (TCP window, vsock credit):
 * that is the backpressure. {@link #close()} from any thread wakes a read or write blocked in another;
 * it is idempotent.
 *
 * <p>Channels rather than streams so the relay can copy through one direct buffer: the kernel's sockets
 * (TCP, and AF_VSOCK in a guest) then read into it and write from it with no copy in the JVM, where a
 * {@code byte[]} costs two (the JDK's temporary direct buffer for TCP, native memory for AF_VSOCK).
 *
 * @param peer for messages: where the peer is
 */
record End(ByteChannel channel, HalfClose halfClose, String peer) implements Closeable {
    /** The socket's own shutdownOutput. */
    @FunctionalInterface
    interface HalfClose {
        void shutdownOutput() throws IOException;
    }

    /** A connected TCP channel, left in blocking mode. */
    static End of(SocketChannel s) throws IOException {
        return new End(s, s::shutdownOutput, "tcp " + s.getRemoteAddress());
    }

    static End of(VsockSocket s) {
        VsockSocketChannel ch = VsockSocketChannel.wrap(s.handle());
        return new End(ch, ch::shutdownOutput, "vsock " + s.getRemoteAddress());
    }

    /** Sends end-of-stream to the peer; reading on continues. */
    void shutdownOutput() throws IOException {
        halfClose.shutdownOutput();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is best effort: the socket is released either way
        }
    }
}
