package io.vsock4j.transport.hybrid;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSocket;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.WARNING;

/**
 * Hybrid vsock for one guest, Firecracker's way: programs on the host that are not Java reach the guest,
 * and the guest reaches them, through Unix sockets named after {@code uds-path}.
 * <ul>
 *   <li>Host to guest ({@link HostInitiated}): a program connects to {@code uds-path}, writes
 *       {@code CONNECT <port>\n}, and once the guest accepted reads {@code OK <n>\n}; then the Unix
 *       connection is the vsock connection. {@code <n>} is the host-side port of that connection, the
 *       port the guest sees as its peer's (Firecracker answers the same way; vhost-device-vsock
 *       answers the guest port instead). Treat it as opaque.</li>
 *   <li>Guest to host ({@link PortFiles}, {@link GuestPortListener}): while a socket file
 *       {@code <uds-path>_P} exists, a guest connect to (2, P) is accepted by the host machine and
 *       joined to a new Unix connection to that file. Files may come and go while the bridge runs.</li>
 * </ul>
 * Bytes are copied both ways with half-closes passed on ({@link Splice}).
 *
 * <p>Differences from Firecracker, where the kernel's rules for the host machine apply instead:
 * <ul>
 *   <li>A JVM listener of the host machine on (any, P) holds port P against the Unix socket: while it
 *       is bound, guests reach it, not {@code <uds-path>_P} (Firecracker has no JVM listeners; the issue
 *       asks for the Unix socket first, which would need the engine to ask the bridge before its port
 *       table). The bridge retries every second and takes the port once the JVM listener is gone;
 *       conversely, a JVM bind on (any, P) fails with EADDRINUSE while the bridge holds P. A JVM
 *       listener on (1, P) coexists with the bridge.</li>
 *   <li>A guest's connect is accepted before the Unix socket is tried, so a stale socket file (nobody
 *       accepts on it), or a guest that has no {@code _P} file while another guest of the same host
 *       does, gives the guest a connection that the host closes as soon as it accepted it: the guest
 *       sees its connect reset, or EOF, by how the packets race, not always a reset connect.</li>
 *   <li>Ports up to 1023 are bound only where the host machine allows it
 *       ({@code Machine.Builder.mayBindReservedPorts}); elsewhere the bridge logs EACCES for them.</li>
 * </ul>
 *
 * <p>Threads: the bridge owns a platform thread accepting on {@code uds-path} and one watching its
 * directory; each connection runs on virtual threads of the bridge (reading the CONNECT line, then
 * one per direction). The port listeners are its {@link HybridHost}'s, shared by the guests of one
 * host machine. {@link #close} from any thread: it closes the Unix listener (and removes its file),
 * every connection of this guest, its port listeners that no other guest wants, and waits for its
 * threads to end.
 */
public final class HybridUnixBridge implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HybridUnixBridge.class.getName());
    private static final long JOIN_MILLIS = 10_000;

    private final HybridHost owner;
    private final int guestCid;
    private final Path udsPath;
    private final Workers workers = new Workers();
    private final Set<Splice> live = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closing = new AtomicBoolean();
    /** The ports with a socket file, as last listed. */
    private volatile Set<Integer> ports = Set.of();
    private HostInitiated entrance;
    private PortFiles portFiles;

    private HybridUnixBridge(HybridHost owner, int guestCid, Path udsPath) {
        this.owner = owner;
        this.guestCid = guestCid;
        this.udsPath = udsPath.toAbsolutePath();
    }

    /** Listens on {@code udsPath} and starts watching its directory; {@link HybridHost#bridge} calls it. */
    static HybridUnixBridge start(HybridHost owner, int guestCid, Path udsPath) throws IOException {
        HybridUnixBridge b = new HybridUnixBridge(owner, guestCid, udsPath);
        try {
            b.entrance = HostInitiated.start(owner.provider(), guestCid, b.udsPath, b.workers, b.live, b.closing);
            b.portFiles = PortFiles.start(b.udsPath, b.workers, b::portsChanged, owner::retryUnbound);
            return b;
        } catch (IOException | RuntimeException e) {
            b.close();
            throw e;
        }
    }

    private void portsChanged(Set<Integer> now) {
        ports = now;
        owner.portsWanted(this, now);
    }

    /** A guest connect to host port {@code port} arrived; called on the port listener's thread, must not block. */
    void fromGuest(int port, VsockSocket s) {
        Path file = PortFiles.socketFor(udsPath, port);
        if (closing.get() || !ports.contains(port)) {
            LOG.log(DEBUG, "hybrid: guest {0} reached port {1} but {2} is not there; closing",
                    VsockAddress.cidToString(guestCid), Integer.toUnsignedString(port), file);
            closeQuietly(s);
            return;
        }
        workers.virtual("hybrid " + file, () -> {
            SocketChannel unix;
            try {
                unix = UnixSockets.connect(file);
            } catch (IOException e) {
                LOG.log(WARNING, "hybrid: guest {0} to port {1}: {2} does not accept ({3}); closing",
                        VsockAddress.cidToString(guestCid), Integer.toUnsignedString(port), file, e.getMessage());
                closeQuietly(s);
                return;
            }
            LOG.log(DEBUG, "hybrid: guest {0} connected to {1}", s.getRemoteAddress(), file);
            Splice.start(s, unix, new byte[0], workers, live, closing, "hybrid " + file);
        });
    }

    public int guestCid() {
        return guestCid;
    }

    public Path udsPath() {
        return udsPath;
    }

    /** The guest ports that have a socket file {@code <uds-path>_P} now, in order. */
    public SortedSet<Integer> unixPorts() {
        SortedSet<Integer> s = new TreeSet<>(Integer::compareUnsigned);
        s.addAll(ports);
        return s;
    }

    /** Connections being copied now (tests). */
    int connectionCount() {
        return live.size();
    }

    /** Threads of this bridge still running (tests: zero after close). */
    int threadCount() {
        return workers.count();
    }

    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        if (portFiles != null) {
            portFiles.close();
        }
        if (entrance != null) {
            entrance.close();
        }
        owner.removed(this);
        for (Splice s : live) {
            s.close();
        }
        if (!workers.join(JOIN_MILLIS)) {
            LOG.log(WARNING, "hybrid {0}: {1} threads still running after close", udsPath, workers.count());
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // Released either way.
        }
    }

    @Override
    public String toString() {
        return "hybrid vsock guest " + VsockAddress.cidToString(guestCid) + " on " + udsPath;
    }
}
