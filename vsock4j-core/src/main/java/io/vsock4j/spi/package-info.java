/**
 * What plugs into vsock4j, and the errno table.
 *
 * <ul>
 *   <li>{@link io.vsock4j.spi.SocketProvider} / {@link io.vsock4j.spi.SocketHandle}: a whole socket
 *       implementation (the Java engine's machine, or the kernel's AF_VSOCK).</li>
 *   <li>{@link io.vsock4j.spi.Transport} and {@link io.vsock4j.spi.TransportRole}: a packet transport the
 *       engine drives, in one of the kernel's slots (H2G, G2H, LOCAL).</li>
 *   <li>{@link io.vsock4j.spi.Errno}: errno values and the one mapping to Java exceptions.</li>
 * </ul>
 */
package io.vsock4j.spi;
