/**
 * java.net for programs that cannot be changed: a {@link javax.net.SocketFactory} whose sockets are
 * real {@link java.net.Socket}s connected over vsock, for clients that take a socket factory (OkHttp,
 * Apache HttpClient, JDBC drivers and others) and know nothing of vsock.
 *
 * <ul>
 *   <li>{@link io.vsock4j.net.VsockSocketFactory}: the factory, and the convention that maps the
 *       host and port a client asks for to a vsock address (a CID fixed in the factory, or a host
 *       name {@code vsock-CID}).</li>
 *   <li>{@code VsockSocketImpl}: the {@link java.net.SocketImpl} under each such socket, over a
 *       {@link io.vsock4j.VsockSocket} of the factory's provider.</li>
 * </ul>
 * Uses only the socket API ({@code io.vsock4j}), so it works on every transport.
 */
package io.vsock4j.net;
