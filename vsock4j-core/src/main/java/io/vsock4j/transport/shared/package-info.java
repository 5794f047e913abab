/**
 * A vsock machine shared by the processes of one user: CID 1 and one port space across processes, with
 * no kernel loopback.
 *
 * <ul>
 *   <li>{@link io.vsock4j.transport.shared.SharedMachine}: join a machine by name (the user's default is
 *       {@code "default"}); starts the daemon when none runs.</li>
 *   <li>{@link io.vsock4j.transport.shared.SharedLoopbackTransport}: a process's LOCAL transport and port
 *       registry, a link to the daemon (a {@link io.vsock4j.transport.link.LinkTransport}).</li>
 *   <li>{@link io.vsock4j.transport.shared.SharedMachineDaemon}: the switch and port table, one process
 *       per machine, exiting when idle.</li>
 *   <li>{@code SharedWire}: the hello and the control frames beside the packets; {@code Rendezvous}: the
 *       private directory where processes and daemon meet.</li>
 * </ul>
 *
 * <p>Built on {@code io.vsock4j.transport.link} (its Unix link, hello and accept loop); nothing there
 * depends on this package.
 */
package io.vsock4j.transport.shared;
