package io.vsock4j.cli.proxy;

import io.vsock4j.SocketProvider;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockServerSocket;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The listening side of a proxy: a vsock port (vsock to TCP) or a TCP address (TCP to vsock). Bound when
 * made, so a port in use fails at start-up; {@link #close()} from another thread wakes a blocked
 * {@link #accept()}, which then throws.
 */
interface Inbound extends Closeable {
    /** The next connection; throws once closed. */
    End accept() throws IOException;

    /** For messages: what is listened on. */
    String describe();

    /** The bound port (the one chosen when 0 was asked for). */
    int port();

    @Override
    void close() throws IOException;

    static Inbound vsock(SocketProvider provider, int port) throws IOException {
        VsockServerSocket server = VsockServerSocket.bind(provider, VsockAddress.of(VsockAddress.CID_ANY, port));
        // One read takes at most what the vsock socket holds, and the default receive buffer of 256 KiB is a
        // quarter of what a relay's CopyBuffer grows to: vsock -> TCP would pay four reads per MiB. Accepted
        // sockets inherit the listener's buffer sizes (the maximum first: the size is clamped to it).
        try {
            server.setOption(VsockOptions.BUFFER_MAX_SIZE, (long) CopyBuffer.MAX_BYTES);
            server.setOption(VsockOptions.BUFFER_SIZE, (long) CopyBuffer.MAX_BYTES);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return new Inbound() {
            @Override
            public End accept() throws IOException {
                return End.of(server.accept());
            }

            @Override
            public String describe() {
                return "vsock " + server.getLocalAddress() + " on " + provider.name();
            }

            @Override
            public int port() {
                return server.getLocalAddress().port();
            }

            @Override
            public void close() throws IOException {
                server.close();
            }
        };
    }

    static Inbound tcp(InetSocketAddress address) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(address);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on tcp " + address + ": " + e.getMessage(), e);
        }
        return new Inbound() {
            @Override
            public End accept() throws IOException {
                SocketChannel s = server.accept();
                try {
                    s.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    return End.of(s);
                } catch (IOException e) {
                    s.close();
                    throw e;
                }
            }

            @Override
            public String describe() {
                return "tcp " + server.socket().getLocalSocketAddress();
            }

            @Override
            public int port() {
                return server.socket().getLocalPort();
            }

            @Override
            public void close() throws IOException {
                server.close();
            }
        };
    }
}
