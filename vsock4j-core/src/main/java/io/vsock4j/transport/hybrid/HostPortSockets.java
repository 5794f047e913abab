package io.vsock4j.transport.hybrid;

import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.System.Logger.Level.WARNING;

/**
 * Guest to host for {@link HybridClientTransport}: while a JVM socket listens on host port P, a Unix
 * socket {@code <uds_path>_P} listens for each guest, since that is where Firecracker and Cloud
 * Hypervisor connect when their guest dials (2, P). Each Unix connection accepted there goes to the
 * transport as coming from that guest. The files are created when the JVM socket starts listening
 * (a live one of another process there: EADDRINUSE, and the listen fails) and removed when it closes.
 *
 * <p>Threads: one virtual thread of the transport's {@link Workers} accepts per file; {@link #open} and
 * {@link #close} from any thread, under this object's lock, which is never held while accepting.
 */
final class HostPortSockets {
    private static final System.Logger LOG = System.getLogger(HostPortSockets.class.getName());

    /** Where an accepted Unix connection goes: guest CID, host port, the connection. */
    @FunctionalInterface
    interface Handler {
        void accepted(int guestCid, int port, SocketChannel unix);
    }

    private record Listener(Path path, ServerSocketChannel server) {
    }

    private final Map<Integer, Path> guests;
    private final Workers workers;
    private final Handler handler;
    /** By host port; guarded by this. */
    private final Map<Integer, List<Listener>> byPort = new HashMap<>();
    private boolean closed;

    HostPortSockets(Map<Integer, Path> guests, Workers workers, Handler handler) {
        this.guests = guests;
        this.workers = workers;
        this.handler = handler;
    }

    /** Listens on {@code <uds_path>_port} for every guest; all or none. */
    synchronized void open(int port) throws IOException {
        if (closed || byPort.containsKey(port)) {
            return;
        }
        List<Listener> opened = new ArrayList<>();
        try {
            for (Map.Entry<Integer, Path> g : guests.entrySet()) {
                Path path = PortFiles.socketFor(g.getValue(), port);
                Listener l = new Listener(path, listen(path));
                opened.add(l);
                int cid = g.getKey();
                workers.virtual("hybrid-client accept " + path, () -> acceptLoop(l, cid, port));
            }
        } catch (IOException | RuntimeException e) {
            opened.forEach(HostPortSockets::close);
            throw e;
        }
        byPort.put(port, opened);
    }

    private static ServerSocketChannel listen(Path path) throws IOException {
        try {
            return UnixSockets.listen(path);
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).startsWith(Errno.EADDRINUSE.name())) {
                throw e; // UnixSockets' own: another process listens there
            }
            throw (IOException) Errno.EADDRNOTAVAIL.exception("cannot listen on " + path + ": " + e.getMessage()).initCause(e);
        }
    }

    private void acceptLoop(Listener l, int guestCid, int port) {
        try {
            while (true) {
                handler.accepted(guestCid, port, l.server().accept());
            }
        } catch (ClosedChannelException e) {
            // close(): the normal end
        } catch (IOException e) {
            LOG.log(WARNING, "hybrid-client: " + l.path() + " stopped accepting", e);
        }
    }

    /** Stops listening for host port {@code port} and removes its files. */
    synchronized void close(int port) {
        List<Listener> ls = byPort.remove(port);
        if (ls != null) {
            ls.forEach(HostPortSockets::close);
        }
    }

    /** Every port's files go; nothing opens after. */
    synchronized void closeAll() {
        closed = true;
        for (List<Listener> ls : byPort.values()) {
            ls.forEach(HostPortSockets::close);
        }
        byPort.clear();
    }

    private static void close(Listener l) {
        try {
            l.server().close();
        } catch (IOException e) {
            // Released either way.
        }
        try {
            Files.deleteIfExists(l.path());
        } catch (IOException e) {
            LOG.log(WARNING, "hybrid-client: removing " + l.path() + " failed", e);
        }
    }
}
