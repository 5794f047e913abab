/**
 * The routing core: a machine with its transports, its bound and connected sockets, and the kernel's
 * rules for choosing between transports.
 *
 * <ul>
 *   <li>{@link io.vsock4j.core.Machine}: one CID space, up to one transport per role, the receive path.</li>
 *   <li>{@link io.vsock4j.core.Routing}: use_local, the connect route, which CIDs bind, the local CID.</li>
 *   <li>{@code PortTable}: bind's rules (EADDRINUSE, PORT_ANY, reserved ports).</li>
 *   <li>{@code EngineSocket}: af_vsock.c's socket layer for the engine: bind, connect, listen, accept;
 *       {@code SocketSettings}, its option values.</li>
 *   <li>{@code TappedTransport}: the machine's view of a transport, where the packet taps sit.</li>
 *   <li>{@code Privileges}: whether this process may bind reserved ports.</li>
 * </ul>
 * The core knows no transport by name: machines are put together in {@code io.vsock4j.machines}.
 */
package io.vsock4j.core;
