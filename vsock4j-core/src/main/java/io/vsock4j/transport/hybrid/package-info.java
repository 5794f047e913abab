/**
 * Hybrid vsock, Firecracker's and Cloud Hypervisor's host side over Unix sockets, from both ends. A
 * host program connects to a guest by writing {@code CONNECT <port>\n} on the Unix socket
 * {@code uds-path} and reading {@code OK <n>\n}; a guest reaches host port P when a program listens
 * on {@code <uds-path>_P}.
 *
 * <p>Serving it (the VMM's part, for host programs that are not Java), built on the socket API of a
 * host {@link io.vsock4j.core.Machine} with no hook in the engine; the guests may be on
 * vhost-user-vsock devices or in this JVM:
 * <ul>
 *   <li>{@link io.vsock4j.transport.hybrid.HybridHost}: the entry point for one host machine; owns the
 *       port listeners its guests share (GuestPortListener, one per host port).</li>
 *   <li>{@link io.vsock4j.transport.hybrid.HybridUnixBridge}: one guest's {@code uds-path}: the
 *       CONNECT listener (HostInitiated, with HandshakeLine reading the line), the watch of its
 *       directory for {@code _P} socket files (PortFiles), and its connections.</li>
 *   <li>Splice: one bridged connection, a vsock socket and a Unix socket copied both ways with
 *       half-closes passed on.</li>
 * </ul>
 *
 * <p>Using it (a Java program on a Firecracker or Cloud Hypervisor host):
 * <ul>
 *   <li>{@link io.vsock4j.transport.hybrid.HybridClientTransport}: a machine's H2G transport from a
 *       table guest CID -> {@code uds-path}; each connection (ClientConnection) plays the guest's side
 *       of virtio-vsock over one Unix socket, OK read by HandshakeLine; HostPortSockets serves
 *       {@code <uds-path>_P} while a JVM socket listens on P.</li>
 * </ul>
 * Shared: Workers, the threads a bridge or transport started; UnixSockets, AF_UNIX through java.nio.
 */
package io.vsock4j.transport.hybrid;
