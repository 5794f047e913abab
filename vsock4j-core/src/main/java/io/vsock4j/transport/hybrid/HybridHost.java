package io.vsock4j.transport.hybrid;

import io.vsock4j.SocketProvider;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSocket;
import io.vsock4j.spi.Errno;
import io.vsock4j.transport.link.HostTransport;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * Hybrid vsock on one host machine: the {@link HybridUnixBridge} of each guest that has a
 * {@code uds-path}, and the port listeners they share. Guests of one host all connect to the same
 * (2, P), so each host port P has one listener, bound while any guest's bridge has a
 * {@code <uds-path>_P} file; what it accepts goes to the bridge of the guest it came from.
 *
 * <pre>{@code
 * HostTransport h2g = new HostTransport("vhost-user", false);
 * Machine host = Machine.builder().name("host").transport(h2g).build();
 * VhostUserVsock vm3 = VhostUserVsock.start(h2g, 3, Path.of("/run/vm3.vhost"));
 * HybridHost hybrid = new HybridHost(host);
 * hybrid.bridge(3, Path.of("/run/vm3.vsock"));
 * // host:  printf 'CONNECT 5000\n' | socat - UNIX-CONNECT:/run/vm3.vsock    (guest: ncat --vsock -l 5000)
 * // guest: ncat --vsock 2 52                  (host:  socat UNIX-LISTEN:/run/vm3.vsock_52 -)
 * }</pre>
 *
 * <p>Threads: the port listeners' threads are this object's; {@link #bridge} and {@link #close} from
 * any thread. {@code lock} guards the tables; binding and closing a listener happen under it (neither
 * blocks), joining threads does not.
 */
public final class HybridHost implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HybridHost.class.getName());
    private static final long JOIN_MILLIS = 10_000;

    private final SocketProvider host;
    /** The guests' H2G transport, whose port redirects give a guest's {@code _P} socket precedence; or null. */
    private final HostTransport h2g;
    /** (guest CID, host port P) to the port standing in for P, as installed on h2g. Guarded by lock. */
    private final Map<Long, Integer> redirected = new HashMap<>();
    private final Workers workers = new Workers();
    private final Object lock = new Object();
    /** By guest CID. Guarded by lock. */
    private final Map<Integer, HybridUnixBridge> bridges = new HashMap<>();
    /** Port to the CIDs whose bridge has a socket file for it. Guarded by lock. */
    private final Map<Integer, Set<Integer>> wanted = new HashMap<>();
    /** Port to its listener, for wanted ports that could be bound. Guarded by lock. */
    private final Map<Integer, GuestPortListener> listening = new HashMap<>();
    /** Port to why it could not be bound, logged once per reason. Guarded by lock. */
    private final Map<Integer, String> unbound = new TreeMap<>(Integer::compareUnsigned);
    private boolean closed;

    /**
     * Hybrid vsock for the guests of {@code host}, a host machine (one with an H2G transport). A guest's
     * {@code <uds-path>_P} gets host port P only where no vsock listener holds it already.
     */
    public HybridHost(SocketProvider host) {
        this(host, null);
    }

    /**
     * Hybrid vsock for the guests on {@code h2g}, reached through {@code host} (the machine with
     * {@code h2g}, or one joined to the shared machine {@code h2g}'s guests are on). A guest's
     * {@code <uds-path>_P} takes precedence over a vsock listener on P, for that guest only: its
     * listener takes any free port, and {@code h2g} redirects the guest's port P there.
     */
    public HybridHost(SocketProvider host, HostTransport h2g) {
        this.host = host;
        this.h2g = h2g;
    }

    /**
     * Starts the bridge of guest {@code guestCid}: listens on {@code udsPath} and watches its directory.
     *
     * @throws IOException EADDRINUSE when the guest already has a bridge here or another process listens
     *                     on {@code udsPath}; the socket's and the watch's own errors
     */
    public HybridUnixBridge bridge(int guestCid, Path udsPath) throws IOException {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("hybrid host is closed");
            }
            if (bridges.containsKey(guestCid)) {
                throw Errno.EADDRINUSE.exception("guest " + VsockAddress.cidToString(guestCid) + " already has a hybrid bridge");
            }
            bridges.put(guestCid, null); // reserved while starting
        }
        try {
            HybridUnixBridge b = HybridUnixBridge.start(this, guestCid, udsPath);
            boolean late;
            synchronized (lock) {
                late = closed;
                bridges.put(guestCid, b);
            }
            if (late) {
                b.close();
                throw new IllegalStateException("hybrid host closed while guest " + VsockAddress.cidToString(guestCid)
                        + "'s bridge started");
            }
            LOG.log(INFO, "hybrid vsock for guest {0} on {1}", VsockAddress.cidToString(guestCid), b.udsPath());
            return b;
        } catch (IOException | RuntimeException e) {
            synchronized (lock) {
                bridges.remove(guestCid, null);
            }
            throw e;
        }
    }

    SocketProvider provider() {
        return host;
    }

    /** The bridges running now. */
    public List<HybridUnixBridge> bridges() {
        synchronized (lock) {
            return bridges.values().stream().filter(b -> b != null).toList();
        }
    }

    /** Bridge {@code b} has socket files for exactly {@code ports} now. */
    void portsWanted(HybridUnixBridge b, Set<Integer> ports) {
        List<GuestPortListener> released;
        synchronized (lock) {
            if (closed) {
                return;
            }
            int cid = b.guestCid();
            for (Map.Entry<Integer, Set<Integer>> e : wanted.entrySet()) {
                if (!ports.contains(e.getKey())) {
                    e.getValue().remove(cid);
                }
            }
            for (int port : ports) {
                wanted.computeIfAbsent(port, p -> new HashSet<>()).add(cid);
            }
            released = reconcile();
        }
        awaitEnd(released);
    }

    /** Bridge {@code b} is closing: it wants no port any more. */
    void removed(HybridUnixBridge b) {
        List<GuestPortListener> released;
        synchronized (lock) {
            if (bridges.get(b.guestCid()) == b) {
                bridges.remove(b.guestCid());
            }
            for (Set<Integer> cids : wanted.values()) {
                cids.remove(b.guestCid());
            }
            released = reconcile();
        }
        awaitEnd(released);
    }

    /** Binds the wanted ports that could not be bound before (a JVM listener may have left). */
    void retryUnbound() {
        synchronized (lock) {
            if (!unbound.isEmpty()) {
                reconcile(); // binds only: nothing is released when the wanted set did not change
            }
        }
    }

    /**
     * Binds every wanted port and closes every listener nobody wants; returns the closed ones, whose
     * threads the caller waits for once it released lock. Holds lock.
     */
    private List<GuestPortListener> reconcile() {
        List<GuestPortListener> released = new ArrayList<>();
        wanted.values().removeIf(Set::isEmpty);
        for (var it = listening.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (closed || !wanted.containsKey(e.getKey())) {
                e.getValue().close();
                released.add(e.getValue());
                it.remove();
                LOG.log(INFO, "hybrid: host port {0} released", Integer.toUnsignedString(e.getKey()));
            }
        }
        unbound.keySet().retainAll(wanted.keySet());
        if (!closed) {
            for (int port : new ArrayList<>(wanted.keySet())) {
                if (!listening.containsKey(port)) {
                    bind(port);
                }
            }
        }
        redirect();
        return released;
    }

    /** Makes h2g's redirects those of the listeners and the guests that want them. Holds lock. */
    private void redirect() {
        if (h2g == null) {
            return;
        }
        Map<Long, Integer> wantedRedirects = new HashMap<>();
        for (var e : listening.entrySet()) {
            for (int cid : wanted.getOrDefault(e.getKey(), Set.of())) {
                wantedRedirects.put(key(cid, e.getKey()), e.getValue().boundPort());
            }
        }
        for (var e : redirected.entrySet()) {
            if (!e.getValue().equals(wantedRedirects.get(e.getKey()))) {
                h2g.unredirectPort((int) (e.getKey() >>> 32), e.getKey().intValue());
            }
        }
        for (var e : wantedRedirects.entrySet()) {
            if (!e.getValue().equals(redirected.get(e.getKey()))) {
                h2g.redirectPort((int) (e.getKey() >>> 32), e.getKey().intValue(), e.getValue());
            }
        }
        redirected.clear();
        redirected.putAll(wantedRedirects);
    }

    private static long key(int cid, int port) {
        return (Integer.toUnsignedLong(cid) << 32) | Integer.toUnsignedLong(port);
    }

    private static void awaitEnd(List<GuestPortListener> released) {
        for (GuestPortListener l : released) {
            l.awaitEnd(JOIN_MILLIS);
        }
    }

    private void bind(int port) {
        String name = Integer.toUnsignedString(port);
        try {
            int bindPort = h2g == null ? port : VsockAddress.PORT_ANY;
            listening.put(port, GuestPortListener.start(host, port, bindPort, workers, s -> dispatch(port, s)));
            unbound.remove(port);
            LOG.log(INFO, "hybrid: host port {0} bound for guests {1}", name, wanted.get(port));
        } catch (IOException | RuntimeException e) {
            String why = String.valueOf(e.getMessage());
            if (!why.equals(unbound.put(port, why))) {
                LOG.log(WARNING, "hybrid: host port {0} not bound, guests reach whatever holds it ({1});"
                        + " retrying every second", name, why);
            }
        }
    }

    /** A guest's connect to {@code port}: to its bridge, on the listener's thread. */
    private void dispatch(int port, VsockSocket s) {
        HybridUnixBridge b;
        synchronized (lock) {
            b = bridges.get(s.getRemoteAddress().cid());
        }
        if (b == null) {
            try {
                s.close(); // a guest without a hybrid bridge: nobody listens for it here
            } catch (IOException e) {
                // Released either way.
            }
            return;
        }
        b.fromGuest(port, s);
    }

    /** Host ports bound for guests now (tests). */
    Set<Integer> boundPorts() {
        synchronized (lock) {
            return Set.copyOf(listening.keySet());
        }
    }

    /** Threads of the port listeners still running (tests: zero after close). */
    int threadCount() {
        return workers.count();
    }

    /** Closes every bridge, then the listeners; waits for their threads. */
    @Override
    public void close() {
        List<HybridUnixBridge> all = bridges();
        for (HybridUnixBridge b : all) {
            b.close();
        }
        List<GuestPortListener> released;
        synchronized (lock) {
            closed = true;
            released = reconcile();
        }
        awaitEnd(released);
        workers.join(JOIN_MILLIS);
    }
}
