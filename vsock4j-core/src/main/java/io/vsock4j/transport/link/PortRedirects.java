package io.vsock4j.transport.link;

import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * The port redirects of a {@link HostTransport}: for one guest, host port P stands at port Q (a
 * listener that takes P's place for that guest only, as hybrid vsock's {@code <uds-path>_P}). A
 * guest's packets to (2, P) go to (2, Q), and Q's packets to it leave as from P.
 *
 * <p>A redirect applies to connections the guest opens while it is in place: each is remembered at its
 * REQUEST and keeps its Q until an RST in either direction ends it, even after the redirect is gone (a
 * listener that stops listening after its first accept, as {@code nc -l} and {@code socat UNIX-LISTEN}
 * do, must not cut the connection it accepted).
 *
 * <p>The packet path allocates nothing for a packet that is not redirected: it first looks its (guest
 * CID, host port) up in {@link #watched}, a sorted array of every port a redirect or an open redirected
 * connection uses, on either side; only a hit goes on to the tables.
 *
 * <p>Threads: {@link #toHost} on the guest's delivery thread, {@link #toGuest} on any sending thread,
 * the rest on any thread. Every change to the tables (a redirect, a connection's REQUEST or RST) is
 * made under a lock, which then replaces {@link #watched}; lookups take no lock.
 */
final class PortRedirects {
    /** (guest CID, P) to Q. Replaced whole under lock. */
    private volatile Map<Long, Integer> byPort = Map.of();
    /** (guest CID, Q) to P, for the packets of Q to a guest. Replaced whole under lock. */
    private volatile Map<Long, Integer> byStandIn = Map.of();
    /** Redirected connections, by the guest's end and the port it dialled (P): Q. */
    private final Map<Connection, Integer> standInOf = new ConcurrentHashMap<>();
    /** The same connections, by the guest's end and Q: P. */
    private final Map<Connection, Integer> dialledOf = new ConcurrentHashMap<>();
    private final Object lock = new Object();
    /** key(cid, port) of every P and Q in the tables, sorted; replaced whole under lock after each change. */
    private volatile long[] watched = new long[0];

    /** A guest's end of a connection and a host port it has. */
    private record Connection(int cid, int guestPort, int hostPort) {
    }

    void redirect(int guestCid, int hostPort, int standIn) {
        synchronized (lock) {
            Map<Long, Integer> ports = new HashMap<>(byPort);
            Map<Long, Integer> standIns = new HashMap<>(byStandIn);
            Integer old = ports.put(key(guestCid, hostPort), standIn);
            if (old != null) {
                standIns.remove(key(guestCid, old));
            }
            standIns.put(key(guestCid, standIn), hostPort);
            byPort = Map.copyOf(ports);
            byStandIn = Map.copyOf(standIns);
            rewatch();
        }
    }

    /** New connections to {@code hostPort} are no longer redirected; open ones keep theirs. */
    void unredirect(int guestCid, int hostPort) {
        synchronized (lock) {
            Map<Long, Integer> ports = new HashMap<>(byPort);
            Integer standIn = ports.remove(key(guestCid, hostPort));
            if (standIn == null) {
                return;
            }
            Map<Long, Integer> standIns = new HashMap<>(byStandIn);
            standIns.remove(key(guestCid, standIn));
            byPort = Map.copyOf(ports);
            byStandIn = Map.copyOf(standIns);
            rewatch();
        }
    }

    /** A packet from guest {@code cid} to CID 2: its destination port, redirected. */
    void toHost(int cid, Packet p) {
        if (!isWatched(cid, p.dstPort)) {
            return;
        }
        Connection c = new Connection(cid, p.srcPort, p.dstPort);
        Integer standIn = standInOf.get(c);
        if (standIn == null) {
            standIn = byPort.get(key(cid, p.dstPort));
            if (standIn == null) {
                return;
            }
            if (p.op == VirtioVsock.OP_REQUEST) {
                synchronized (lock) {
                    standInOf.put(c, standIn);
                    dialledOf.put(new Connection(cid, p.srcPort, standIn), p.dstPort);
                    rewatch();
                }
            }
        }
        if (p.op == VirtioVsock.OP_RST) {
            forget(c, standIn);
        }
        p.dstPort = standIn;
    }

    /** A packet from CID 2 to guest {@code cid}: its source port, as the guest dialled it. */
    void toGuest(int cid, Packet p) {
        if (!isWatched(cid, p.srcPort)) {
            return;
        }
        Integer dialled = dialledOf.get(new Connection(cid, p.dstPort, p.srcPort));
        if (dialled == null) {
            dialled = byStandIn.get(key(cid, p.srcPort));
            if (dialled == null) {
                return;
            }
        } else if (p.op == VirtioVsock.OP_RST) {
            forget(new Connection(cid, p.dstPort, dialled), p.srcPort);
        }
        p.srcPort = dialled;
    }

    /** The guest is gone: its connections with it. */
    void forgetGuest(int cid) {
        synchronized (lock) {
            standInOf.keySet().removeIf(c -> c.cid() == cid);
            dialledOf.keySet().removeIf(c -> c.cid() == cid);
            rewatch();
        }
    }

    /** Redirected connections open now (tests check that ended ones are forgotten). */
    int connectionCount() {
        return standInOf.size();
    }

    private void forget(Connection dialled, int standIn) {
        synchronized (lock) {
            standInOf.remove(dialled);
            dialledOf.remove(new Connection(dialled.cid(), dialled.guestPort(), standIn));
            rewatch();
        }
    }

    private boolean isWatched(int cid, int port) {
        long[] w = watched;
        return w.length > 0 && Arrays.binarySearch(w, key(cid, port)) >= 0;
    }

    /** Rebuilds {@link #watched} from the tables. Under lock. */
    private void rewatch() {
        LongStream redirected = LongStream.concat(byPort.keySet().stream().mapToLong(Long::longValue),
                byStandIn.keySet().stream().mapToLong(Long::longValue));
        LongStream connected = Stream.concat(standInOf.keySet().stream(), dialledOf.keySet().stream())
                .mapToLong(c -> key(c.cid(), c.hostPort()));
        watched = LongStream.concat(redirected, connected).distinct().sorted().toArray();
    }

    private static long key(int cid, int port) {
        return (Integer.toUnsignedLong(cid) << 32) | Integer.toUnsignedLong(port);
    }
}
