/**
 * What plugs into the Java engine, and the errno table. (A whole-socket implementation, such as the
 * kernel's AF_VSOCK, implements {@link io.vsock4j.SocketProvider} from the API package instead.)
 *
 * <ul>
 *   <li>{@link io.vsock4j.spi.Transport} and {@link io.vsock4j.spi.TransportRole}: a packet transport the
 *       engine drives, in one of the kernel's slots (H2G, G2H, LOCAL).</li>
 *   <li>{@link io.vsock4j.spi.PortRegistry}: one port space across processes (the shared machine).</li>
 *   <li>{@link io.vsock4j.spi.Errno}: errno values and the one mapping to Java exceptions.</li>
 *   <li>{@link io.vsock4j.spi.Interruption}: how an interrupted blocking call closes its socket.</li>
 * </ul>
 */
package io.vsock4j.spi;
