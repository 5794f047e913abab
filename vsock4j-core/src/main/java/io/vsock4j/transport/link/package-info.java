/**
 * Links between machines: one machine is the host of another, as a VMM's vhost device joins a host
 * kernel to a guest's virtio driver.
 *
 * <ul>
 *   <li>{@link io.vsock4j.transport.link.PacketLink}: a point-to-point pipe of virtio-vsock packets;
 *       {@link io.vsock4j.transport.link.MemoryLink} inside one JVM,
 *       {@link io.vsock4j.transport.link.UnixLink} between processes over a Unix domain socket.</li>
 *   <li>{@link io.vsock4j.transport.link.HostTransport}: the H2G slot, many guests keyed by CID, with
 *       vhost's checks on what guests send.</li>
 *   <li>{@link io.vsock4j.transport.link.GuestTransport}: the G2H slot of a guest, one link to its host.</li>
 *   <li>{@link io.vsock4j.transport.link.FrameDecoder} and {@code LinkHello}: the wire format of a Unix
 *       link, a 16-byte hello each way and then header-plus-payload frames.</li>
 *   <li>{@link io.vsock4j.transport.link.UnixLinkServer} and {@link io.vsock4j.transport.link.UnixLinks}:
 *       the host serves a socket path and gives each connecting guest process a CID.</li>
 * </ul>
 */
package io.vsock4j.transport.link;
