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
 *   <li>{@link io.vsock4j.transport.link.GuestTransport}: the G2H slot of a guest, one link to its host;
 *       {@link io.vsock4j.transport.link.LinkTransport}: what it shares with the other one-link
 *       transport (the shared machine's): drops counted, link down as ENODEV and a transport reset.</li>
 *   <li>{@link io.vsock4j.transport.link.FrameDecoder} and {@code LinkHello}: the wire format of a Unix
 *       link, a 16-byte hello each way and then header-plus-payload frames;
 *       {@link io.vsock4j.transport.link.UnixHello}: the magic-and-version hello with its timeout that
 *       both Unix protocols (the link's, the shared machine's) open with.</li>
 *   <li>{@link io.vsock4j.transport.link.UnixLinkServer} and {@link io.vsock4j.transport.link.UnixLinks}:
 *       the host serves a socket path and gives each connecting guest process a CID;
 *       {@link io.vsock4j.transport.link.UnixAcceptor}: the accept loop it shares with the shared
 *       machine's daemon.</li>
 * </ul>
 */
package io.vsock4j.transport.link;
