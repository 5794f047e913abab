package io.vsock4j.transport.hybrid;

import io.vsock4j.SocketProvider;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;

import java.io.IOException;
import java.util.function.Consumer;

import static java.lang.System.Logger.Level.WARNING;

/**
 * Guest to host, one port: a host-machine listener on (CID 2, P) that accepts what guests send to host
 * port P and hands each accepted socket on (to the bridge of the guest it came from). Bound to CID 2,
 * not to any: connections to CID 1 from the host's own programs never reach it, and a JVM listener on
 * (1, P) may coexist with it; a JVM listener on (any, P) may not (Linux's bind rules, EADDRINUSE).
 *
 * <p>Threads: one platform thread accepts ("hybrid port P"); the handler runs on it and must not
 * block. {@link #close} from any thread ends the loop and frees the port.
 */
final class GuestPortListener implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GuestPortListener.class.getName());

    private final int port;
    private final int boundPort;
    private final VsockServerSocket server;
    private Thread thread;

    private GuestPortListener(int port, VsockServerSocket server) {
        this.port = port;
        this.boundPort = server.getLocalAddress().port();
        this.server = server;
    }

    /**
     * Binds (2, {@code bindPort}) on {@code host} for guests' connects to host port {@code port} (the
     * same port, or PORT_ANY when the H2G transport redirects {@code port} to wherever this lands) and
     * accepts on a new thread of {@code workers}.
     *
     * @throws IOException EADDRINUSE when a JVM listener holds the port, EACCES for a reserved port
     *                     this machine may not bind
     */
    static GuestPortListener start(SocketProvider host, int port, int bindPort, Workers workers, Consumer<VsockSocket> handler)
            throws IOException {
        VsockServerSocket server = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_HOST, bindPort));
        GuestPortListener l = new GuestPortListener(port, server);
        l.thread = workers.platform("hybrid port " + Integer.toUnsignedString(port), () -> l.acceptLoop(handler));
        return l;
    }

    private void acceptLoop(Consumer<VsockSocket> handler) {
        while (!server.isClosed()) {
            VsockSocket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (!server.isClosed()) {
                    LOG.log(WARNING, "hybrid: port " + Integer.toUnsignedString(port) + " stopped accepting", e);
                }
                return;
            }
            handler.accept(s);
        }
    }

    int port() {
        return port;
    }

    /** The port the listener holds: {@link #port()}, or the one picked for a redirect. */
    int boundPort() {
        return boundPort;
    }

    /** Frees the port and wakes the accepting thread; {@link #awaitEnd} waits for it. */
    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // The port is released either way.
        }
    }

    /** Waits up to {@code millis} for the accepting thread to end, after {@link #close}. */
    void awaitEnd(long millis) {
        try {
            thread.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
