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

    private final Map<Integer, List<EngineSocket>> byPort = new HashMap<>();
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
        EngineSocket holder = findConflict(cid, port);
        if (holder != null) {
            throw Errno.EADDRINUSE.exception(VsockAddress.of(cid, port) + " is held by a socket bound to "
                    + holder.localAddress());
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
        byPort.computeIfAbsent(port, p -> new ArrayList<>(1)).add(socket);
        socket.boundTo(address);
        return address;
    }

    /** __vsock_find_bound_socket: the same address, or the same port where either CID is ANY. */
    private EngineSocket findConflict(int cid, int port) {
        List<EngineSocket> sockets = byPort.get(port);
        if (sockets == null) {
            return null;
        }
        for (EngineSocket s : sockets) {
            int boundCid = s.localAddress().cid();
            if (boundCid == cid || boundCid == VsockAddress.CID_ANY || cid == VsockAddress.CID_ANY) {
                return s;
            }
        }
        return null;
    }

    /** The socket that receives packets for {@code cid:port}: bound to exactly that CID, or to ANY. */
    synchronized EngineSocket find(int cid, int port) {
        List<EngineSocket> sockets = byPort.get(port);
        if (sockets == null) {
            return null;
        }
        EngineSocket any = null;
        for (EngineSocket s : sockets) {
            int boundCid = s.localAddress().cid();
            if (boundCid == cid) {
                return s;
            }
            if (boundCid == VsockAddress.CID_ANY) {
                any = s;
            }
        }
        return any;
    }

    /** Removes the socket's entry; false when it held none (an accepted child never does). */
    synchronized boolean unbind(EngineSocket socket, VsockAddress address) {
        List<EngineSocket> sockets = byPort.get(address.port());
        if (sockets == null || !sockets.remove(socket)) {
            return false;
        }
        if (sockets.isEmpty()) {
            byPort.remove(address.port());
        }
        return true;
    }

    /** How many sockets are bound (tests check nothing leaks). */
    synchronized int size() {
        int n = 0;
        for (List<EngineSocket> sockets : byPort.values()) {
            n += sockets.size();
        }
        return n;
    }
}
