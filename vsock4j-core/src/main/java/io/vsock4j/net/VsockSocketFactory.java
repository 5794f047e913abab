package io.vsock4j.net;

import io.vsock4j.SocketProvider;
import io.vsock4j.VsockAddress;

import javax.net.SocketFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.Locale;
import java.util.Objects;

/**
 * A {@link SocketFactory} for clients written for TCP: each socket it makes is a plain
 * {@link Socket} whose connect goes over vsock on the factory's provider, so a library that takes a
 * socket factory talks to a guest, a host or a process on the same machine without knowing it.
 *
 * <p>Which vsock address a connect reaches:
 * <ul>
 *   <li>{@link #toCid(SocketProvider, int)}: always that CID, at the port the client asked for. The
 *       host is ignored, so it only has to be something the client accepts (for an HTTP client,
 *       {@code http://localhost:8080/} reaches (CID, 8080)). Use this when the client resolves host
 *       names itself, as OkHttp and Apache HttpClient do before they connect.</li>
 *   <li>{@link #byHostName(SocketProvider)}: the host name says the CID, {@code vsock-CID} with CID a
 *       number or one of {@code local}, {@code host}, {@code hypervisor} (for example
 *       {@code vsock-3}, {@code vsock-host}), at the port asked for. Works where the host name reaches
 *       the socket unresolved: {@link #createSocket(String, int)} and connects to
 *       {@link InetSocketAddress#createUnresolved}. Anything else is refused with an
 *       {@link java.net.UnknownHostException} that names the convention.</li>
 * </ul>
 * Ports are TCP's 0..65535 here (the client's address type allows no more). Binding a local address
 * and urgent data have no vsock equivalent and are refused; TCP_NODELAY and SO_KEEPALIVE are accepted
 * and have no effect (vsock has no Nagle delay and no keep-alive probes); SO_TIMEOUT is the vsock
 * socket's read timeout.
 *
 * <p>Thread-safe: a factory holds no state beyond its provider and CID.
 */
public final class VsockSocketFactory extends SocketFactory {
    /** The host name prefix of {@link #byHostName}: {@code vsock-3}. */
    public static final String HOST_PREFIX = "vsock-";

    private final SocketProvider provider;
    /** The fixed CID, or null for {@link #byHostName}. */
    private final Integer cid;

    private VsockSocketFactory(SocketProvider provider, Integer cid) {
        this.provider = Objects.requireNonNull(provider, "provider");
        this.cid = cid;
    }

    /** Sockets that reach {@code cid} at whatever port the client asks for. */
    public static VsockSocketFactory toCid(SocketProvider provider, int cid) {
        return new VsockSocketFactory(provider, cid);
    }

    /** Sockets that read the CID from a host name {@code vsock-CID}. */
    public static VsockSocketFactory byHostName(SocketProvider provider) {
        return new VsockSocketFactory(provider, null);
    }

    /**
     * The CID a host name stands for under {@link #byHostName}: {@code vsock-3} is 3.
     *
     * @throws java.net.UnknownHostException naming the host when it does not follow the convention
     */
    public static int cidOfHostName(String host) throws java.net.UnknownHostException {
        String h = host == null ? "" : host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1); // a fully qualified name's root dot
        }
        if (h.startsWith(HOST_PREFIX)) {
            try {
                return VsockAddress.parseCid(h.substring(HOST_PREFIX.length()));
            } catch (IllegalArgumentException e) {
                throw new java.net.UnknownHostException(host + ": " + e.getMessage());
            }
        }
        throw new java.net.UnknownHostException(host + ": not a vsock host name (vsock-CID, for example vsock-3 or vsock-host)");
    }

    /** The vsock address a connect to {@code endpoint} reaches. */
    VsockAddress resolve(InetSocketAddress endpoint) throws java.net.UnknownHostException {
        int port = endpoint.getPort();
        if (cid != null) {
            return VsockAddress.of(cid, port);
        }
        if (!endpoint.isUnresolved()) {
            throw new java.net.UnknownHostException(endpoint + ": a resolved address carries no CID; connect to an"
                    + " unresolved vsock-CID name, or use VsockSocketFactory.toCid");
        }
        return VsockAddress.of(cidOfHostName(endpoint.getHostString()), port);
    }

    SocketProvider provider() {
        return provider;
    }

    @Override
    public Socket createSocket() throws SocketException {
        return new VsockJavaSocket(new VsockSocketImpl(this));
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return connected(InetSocketAddress.createUnresolved(host, port));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return connected(new InetSocketAddress(host, port));
    }

    /** The local address and port have no vsock meaning: refused unless they are the wildcard and 0. */
    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        refuseLocal(localHost, localPort);
        return createSocket(host, port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        refuseLocal(localAddress, localPort);
        return createSocket(address, port);
    }

    private Socket connected(InetSocketAddress endpoint) throws IOException {
        Socket s = createSocket();
        try {
            s.connect(endpoint);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    private static void refuseLocal(InetAddress local, int port) throws SocketException {
        if ((local != null && !local.isAnyLocalAddress()) || port != 0) {
            throw new SocketException("vsock sockets have no local IP address to bind: " + local + ":" + port);
        }
    }

    @Override
    public String toString() {
        return "VsockSocketFactory[" + (cid == null ? "CID from vsock-CID host names" : "CID " + VsockAddress.cidToString(cid))
                + ", " + provider + "]";
    }

    /** A {@link Socket} over a {@link VsockSocketImpl}: Socket's constructor that takes an impl is protected. */
    private static final class VsockJavaSocket extends Socket {
        VsockJavaSocket(VsockSocketImpl impl) throws SocketException {
            super(impl);
        }
    }
}
