package io.vsock4j.spi;

import java.io.IOException;

/**
 * Ports held across processes: the seam through which a machine shared by several processes (each with
 * its own engine) keeps one port space, so bind is machine-wide as it is in one kernel. A machine built
 * with a registry asks it before every bind and tells it when a port stops being used; the registry
 * counts holds per port and tells the other processes only when the first hold is taken and the last one
 * dropped.
 *
 * <p>A port is in use while a socket is bound to it or a connection uses it as its local port (an
 * accepted connection keeps its listener's port after the listener closes, and packets for it must still
 * find this process).
 *
 * <p>Threads: {@link #reserve} blocks for a round trip to the other processes and is called by the
 * binding thread, never on a transport's delivery thread and never under the machine's port-table lock.
 * {@link #hold} and {@link #release} never block: they are called on delivery threads and under
 * connection locks.
 */
public interface PortRegistry {
    /**
     * Takes a hold on {@code port} for this process, or on a port free in every process for
     * {@link io.vsock4j.VsockAddress#PORT_ANY}. Holding a port already held here always succeeds.
     *
     * @return the port held
     * @throws IOException EADDRINUSE when another process holds it, EADDRNOTAVAIL when no port is free,
     *         ENODEV when the other processes cannot be reached
     */
    int reserve(int port) throws IOException;

    /** Takes another hold on a port this process holds already (a connection that uses it). */
    void hold(int port);

    /** Drops one hold; when the last goes, the port is free for every process. */
    void release(int port);
}
