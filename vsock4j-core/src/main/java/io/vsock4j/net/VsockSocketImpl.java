package io.vsock4j.net;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSocket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketImpl;
import java.net.SocketOptions;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Map;

/**
 * The {@link SocketImpl} under a {@link VsockSocketFactory}'s sockets: {@link java.net.Socket} calls it,
 * it calls a {@link VsockSocket} of the factory's provider, opened at connect. Client side only: listen
 * and accept are refused.
 *
 * <p>What the java.net view shows: {@code getInetAddress()} is the address the client connected to
 * when it was resolved, otherwise 0.0.0.0 under the host name it gave ({@code vsock-3/0.0.0.0}), so
 * clients that log it do not meet null; {@code getPort()} and {@code getLocalPort()} are the vsock
 * ports; the local address is the wildcard. Options set before the connect are kept and applied to
 * the vsock socket when it opens.
 *
 * <p>Threads: as any SocketImpl, driven by its Socket, which serializes connect and close; reads and
 * writes go to the vsock socket's streams, which may be used from one reading and one writing thread
 * at once.
 */
final class VsockSocketImpl extends SocketImpl {
    private final VsockSocketFactory factory;
    /** Options with no vsock meaning, kept so that getOption returns what was set. */
    private final Map<Integer, Object> inertOptions = new HashMap<>();
    private int soTimeoutMillis;
    /** Null until connected. */
    private VsockSocket vsock;
    private boolean closed;

    VsockSocketImpl(VsockSocketFactory factory) {
        this.factory = factory;
    }

    @Override
    protected void create(boolean stream) throws IOException {
        if (!stream) {
            throw new SocketException("vsock4j's java.net sockets are streams");
        }
    }

    @Override
    protected void connect(String host, int port) throws IOException {
        connect(InetSocketAddress.createUnresolved(host, port), 0);
    }

    @Override
    protected void connect(InetAddress address, int port) throws IOException {
        connect(new InetSocketAddress(address, port), 0);
    }

    /** @param timeoutMillis 0: the vsock socket's CONNECT_TIMEOUT (2 s, as the kernel's), not forever */
    @Override
    protected void connect(SocketAddress endpoint, int timeoutMillis) throws IOException {
        if (closed) {
            throw new SocketException("Socket is closed");
        }
        if (!(endpoint instanceof InetSocketAddress inet)) {
            throw new IllegalArgumentException("vsock4j's java.net sockets connect to an InetSocketAddress, not " + endpoint);
        }
        VsockAddress remote = factory.resolve(inet);
        VsockSocket s = VsockSocket.open(factory.provider());
        try {
            s.setSoTimeout(soTimeoutMillis);
            s.connect(remote, timeoutMillis);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        vsock = s;
        address = inet.isUnresolved() ? unresolvedPlaceholder(inet.getHostString()) : inet.getAddress();
        port = Integer.toUnsignedLong(remote.port()) <= 0xFFFF ? remote.port() : 0;
        localport = Integer.toUnsignedLong(s.getLocalAddress().port()) <= 0xFFFF ? s.getLocalAddress().port() : 0;
    }

    private static InetAddress unresolvedPlaceholder(String host) throws UnknownHostException {
        return InetAddress.getByAddress(host, new byte[4]);
    }

    @Override
    protected void bind(InetAddress host, int port) throws IOException {
        if ((host != null && !host.isAnyLocalAddress()) || port != 0) {
            throw new SocketException("vsock sockets have no local IP address to bind: " + host + ":" + port);
        }
    }

    @Override
    protected void listen(int backlog) throws IOException {
        throw new SocketException("vsock4j's java.net sockets are clients: listen with VsockServerSocket");
    }

    @Override
    protected void accept(SocketImpl s) throws IOException {
        throw new SocketException("vsock4j's java.net sockets are clients: accept with VsockServerSocket");
    }

    @Override
    protected InputStream getInputStream() throws IOException {
        return connected().getInputStream();
    }

    @Override
    protected OutputStream getOutputStream() throws IOException {
        return connected().getOutputStream();
    }

    @Override
    protected int available() throws IOException {
        return connected().available();
    }

    @Override
    protected void shutdownInput() throws IOException {
        connected().shutdownInput();
    }

    @Override
    protected void shutdownOutput() throws IOException {
        connected().shutdownOutput();
    }

    @Override
    protected void close() throws IOException {
        closed = true;
        if (vsock != null) {
            vsock.close();
        }
    }

    @Override
    protected void sendUrgentData(int data) throws IOException {
        throw new SocketException("vsock has no urgent data");
    }

    private VsockSocket connected() throws SocketException {
        if (closed) {
            throw new SocketException("Socket is closed");
        }
        if (vsock == null) {
            throw new SocketException("Socket is not connected");
        }
        return vsock;
    }

    @Override
    public void setOption(int optID, Object value) throws SocketException {
        if (closed) {
            throw new SocketException("Socket is closed");
        }
        switch (optID) {
            case SocketOptions.SO_TIMEOUT -> {
                if (!(value instanceof Integer millis) || millis < 0) {
                    throw new SocketException("SO_TIMEOUT wants milliseconds, 0 or more: " + value);
                }
                soTimeoutMillis = millis;
                if (vsock != null) {
                    vsock.setSoTimeout(millis);
                }
            }
            // No vsock meaning: no Nagle delay to turn off, no keep-alive probes, no IP header.
            case SocketOptions.TCP_NODELAY, SocketOptions.SO_KEEPALIVE, SocketOptions.SO_LINGER,
                 SocketOptions.SO_REUSEADDR, SocketOptions.IP_TOS, SocketOptions.SO_OOBINLINE,
                 SocketOptions.SO_SNDBUF, SocketOptions.SO_RCVBUF -> inertOptions.put(optID, value);
            default -> throw new SocketException("vsock4j's java.net sockets do not support socket option " + optID);
        }
    }

    @Override
    public Object getOption(int optID) throws SocketException {
        if (closed) {
            throw new SocketException("Socket is closed");
        }
        return switch (optID) {
            case SocketOptions.SO_TIMEOUT -> soTimeoutMillis;
            case SocketOptions.SO_BINDADDR -> wildcard();
            case SocketOptions.TCP_NODELAY, SocketOptions.SO_KEEPALIVE, SocketOptions.SO_REUSEADDR,
                 SocketOptions.SO_OOBINLINE -> inertOptions.getOrDefault(optID, Boolean.FALSE);
            case SocketOptions.SO_LINGER -> inertOptions.getOrDefault(optID, -1);
            case SocketOptions.IP_TOS -> inertOptions.getOrDefault(optID, 0);
            case SocketOptions.SO_SNDBUF, SocketOptions.SO_RCVBUF -> inertOptions.getOrDefault(optID, 256 * 1024);
            default -> throw new SocketException("vsock4j's java.net sockets do not support socket option " + optID);
        };
    }

    private static InetAddress wildcard() throws SocketException {
        try {
            return InetAddress.getByAddress(new byte[4]);
        } catch (UnknownHostException e) {
            throw new SocketException(e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "VsockSocketImpl[" + (vsock != null ? vsock : closed ? "closed" : "unconnected") + "]";
    }
}
