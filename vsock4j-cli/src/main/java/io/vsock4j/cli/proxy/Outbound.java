package io.vsock4j.cli.proxy;

import io.vsock4j.SocketProvider;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSocket;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;

/**
 * The dialing side of a proxy, asked once per accepted connection: TCP to an allowlisted host (vsock to
 * TCP), or a vsock CID:PORT (TCP to vsock). A failed dial leaves nothing open and says why in one line.
 * Any thread; several dials may run at once.
 */
interface Outbound {
    /** Opens the other side of one connection. */
    End dial() throws IOException;

    /** For messages: where connections go. */
    String describe();

    /**
     * TCP to {@code host:port}: the host is resolved again for each connection and the address checked
     * against the allowlist each time ({@link Allowlist#admit}); a refusal is an {@link Allowlist.Refused}.
     */
    static Outbound tcp(String host, int port, Allowlist allowlist, Resolver resolver, Resolver.Family family,
                        int connectTimeoutMillis) {
        return new Outbound() {
            @Override
            public End dial() throws IOException {
                InetAddress address = allowlist.admit(host, port, resolver, family);
                SocketChannel s = SocketChannel.open();
                try {
                    s.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    // The channel's socket adaptor connects with a timeout, which the channel itself cannot.
                    s.socket().connect(new InetSocketAddress(address, port), connectTimeoutMillis);
                    return End.of(s);
                } catch (IOException | RuntimeException e) {
                    s.close();
                    throw new IOException("tcp " + address.getHostAddress() + ":" + port + ": " + e.getMessage(), e);
                }
            }

            @Override
            public String describe() {
                return "tcp " + host + ":" + port;
            }
        };
    }

    /** vsock to {@code remote} on {@code provider}. */
    static Outbound vsock(SocketProvider provider, VsockAddress remote) {
        return new Outbound() {
            @Override
            public End dial() throws IOException {
                return End.of(VsockSocket.connect(provider, remote));
            }

            @Override
            public String describe() {
                return "vsock " + remote + " on " + provider.name();
            }
        };
    }
}
