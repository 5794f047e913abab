package io.vsock4j.core;

import io.vsock4j.VsockAddress;
import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The bound sockets of one machine (the kernel's vsock_bind_table), and bind's rules: a port is taken
 * when a socket holds it with the same CID, or when either side used CID ANY; PORT_ANY searches upward
 * from a moving start above the reserved ports, 24 tries; ports up to 1023 need privilege.
 *
 * <p>Thread-safe: every method synchronizes on the table. Callers may hold a socket's lock when
 * calling in (the lock order is socket, then table); the table never calls out.
 */
final class PortTable {
    /** MAX_PORT_RETRIES in af_vsock.c. */
    static final int MAX_PORT_RETRIES = 24;

    /**
     * Each entry keeps the CID its socket bound, so lookups never call into a socket: a socket's lock
     * may be held by a thread waiting for this table (lock order socket, then table).
     */
    private final Map<Integer, List<Bound>> byPort = new HashMap<>();
    private final boolean mayBindReserved;
    /** Where the next PORT_ANY search starts (af_vsock.c keeps one such counter). */
    private int nextPort = VsockAddress.LAST_RESERVED_PORT + 1
            + ThreadLocalRandom.current().nextInt(0x3FFF_FFFF);

    PortTable(boolean mayBindReserved) {
        this.mayBindReserved = mayBindReserved;
    }

    /**
     * Binds {@code socket} to {@code cid:port} (port may be PORT_ANY). The CID has been checked against
     * the machine already.
     *
     * @return the bound address
     */
    synchronized VsockAddress bind(EngineSocket socket, int cid, int port) throws IOException {
        if (port == VsockAddress.PORT_ANY) {
            for (int i = 0; i < MAX_PORT_RETRIES; i++) {
                if (nextPort == VsockAddress.PORT_ANY
                        || Integer.compareUnsigned(nextPort, VsockAddress.LAST_RESERVED_PORT) <= 0) {
                    nextPort = VsockAddress.LAST_RESERVED_PORT + 1;
                }
                int candidate = nextPort++;
                if (findConflict(cid, candidate) == null) {
                    return insert(socket, cid, candidate);
                }
            }
            throw Errno.EADDRNOTAVAIL.exception("no free port for CID " + VsockAddress.cidToString(cid)
                    + " after " + MAX_PORT_RETRIES + " tries");
        }
        checkPrivilege(port);
        Bound holder = findConflict(cid, port);
        if (holder != null) {
            throw Errno.EADDRINUSE.exception(VsockAddress.of(cid, port) + " is held by a socket bound to "
                    + VsockAddress.of(holder.cid(), port));
        }
        return insert(socket, cid, port);
    }

    /** EACCES for a reserved port (up to 1023) without the privilege; PORT_ANY always passes. */
    void checkPrivilege(int port) throws IOException {
        if (port != VsockAddress.PORT_ANY && Integer.compareUnsigned(port, VsockAddress.LAST_RESERVED_PORT) <= 0
                && !mayBindReserved) {
            throw Errno.EACCES.exception("port " + Integer.toUnsignedString(port)
                    + " is reserved (<= 1023) and this process lacks CAP_NET_BIND_SERVICE");
        }
    }

    private VsockAddress insert(EngineSocket socket, int cid, int port) {
        VsockAddress address = VsockAddress.of(cid, port);
        byPort.computeIfAbsent(port, p -> new ArrayList<>(1)).add(new Bound(socket, cid));
        return address;
    }

    /** __vsock_find_bound_socket: the same address, or the same port where either CID is ANY. */
    private Bound findConflict(int cid, int port) {
        List<Bound> sockets = byPort.get(port);
        if (sockets == null) {
            return null;
        }
        for (Bound b : sockets) {
            if (b.cid() == cid || b.cid() == VsockAddress.CID_ANY || cid == VsockAddress.CID_ANY) {
                return b;
            }
        }
        return null;
    }

    /** The socket that receives packets for {@code cid:port}: bound to exactly that CID, or to ANY. */
    synchronized EngineSocket find(int cid, int port) {
        List<Bound> sockets = byPort.get(port);
        if (sockets == null) {
            return null;
        }
        EngineSocket any = null;
        for (Bound b : sockets) {
            if (b.cid() == cid) {
                return b.socket();
            }
            if (b.cid() == VsockAddress.CID_ANY) {
                any = b.socket();
            }
        }
        return any;
    }

    /** Removes the socket's entry; false when it held none (an accepted child never does). */
    synchronized boolean unbind(EngineSocket socket, VsockAddress address) {
        List<Bound> sockets = byPort.get(address.port());
        if (sockets == null || !sockets.removeIf(b -> b.socket() == socket)) {
            return false;
        }
        if (sockets.isEmpty()) {
            byPort.remove(address.port());
        }
        return true;
    }

    /** Every bound socket, a copy: the caller may call into them (the table's lock is let go first). */
    synchronized List<EngineSocket> sockets() {
        List<EngineSocket> all = new ArrayList<>();
        for (List<Bound> bound : byPort.values()) {
            for (Bound b : bound) {
                all.add(b.socket());
            }
        }
        return all;
    }

    /** How many sockets are bound (tests check nothing leaks). */
    synchronized int size() {
        int n = 0;
        for (List<Bound> sockets : byPort.values()) {
            n += sockets.size();
        }
        return n;
    }

    /** A socket in the table and the CID it bound (ANY included). */
    private record Bound(EngineSocket socket, int cid) {
    }
}
