/**
 * The JVM as the host of real virtual machines: a vhost-user-vsock device, the H2G transport in Java.
 * QEMU runs the guest with {@code vhost-user-vsock-pci}; the guest's own virtio-vsock driver puts its
 * packets on virtqueues in guest memory this JVM maps, and each guest is a link of the host machine's
 * {@link io.vsock4j.transport.link.HostTransport}, which checks its packets as vhost does. docs/vhost-user.md
 * has the picture, the QEMU command line and what is and is not done.
 *
 * <p>The vsock device (a reader following one packet starts here):
 * <ul>
 *   <li>{@link io.vsock4j.transport.vhostuser.VhostUserVsock}: the entry point, one guest CID on one
 *       socket.</li>
 *   <li>VsockDevice: the virtio-vsock device as vhost-user sees it (features, config = the guest's CID,
 *       rings started and stopped); one VMM session at a time, attached to the H2G transport.</li>
 *   <li>VsockRings: the session's ring thread, and the link the H2G transport sends through: tx chains
 *       in, rx buffers filled, eventfds polled and signalled; Wakeup: its own eventfd, signalled when the
 *       engine queues a packet for the guest.</li>
 *   <li>GuestPackets: a tx chain into a packet, a packet into rx chains (split as vhost splits).</li>
 * </ul>
 *
 * <p>Below it, a vhost-user backend independent of the device (QEMU's docs/interop/vhost-user.rst); the
 * virtqueues themselves are {@code io.vsock4j.virtqueue}'s.
 * <ul>
 *   <li>{@link io.vsock4j.transport.vhostuser.VhostUserBackend}: listens, accepts one frontend at a time,
 *       releases everything when it leaves; owns the backend's thread.</li>
 *   <li>{@link io.vsock4j.transport.vhostuser.VhostUserDevice}: the hand-off to a device, with
 *       {@link io.vsock4j.transport.vhostuser.MappedRegion} (guest memory as mapped),
 *       {@link io.vsock4j.transport.vhostuser.VringSetup} (a ring as the frontend set it up) and
 *       {@link io.vsock4j.transport.vhostuser.EventFd} (kick and call).</li>
 *   <li>FrontendSession: one connection's requests, feature negotiation and ring life; Vring: one
 *       ring's settings and eventfds; MappedMemory: a memory table mmap'ed into a shared arena;
 *       VhostUserFeatures: feature bits.</li>
 *   <li>The message layer: VhostUserMessage (header diagram, codec and checks), VhostUserRequest
 *       (codes, payload kinds, descriptor rules), PayloadKind, and the payloads VringState,
 *       VringAddress, RegionDescription and ConfigSpace; VhostUserProtocolException names a violation;
 *       MessageChannel reads requests and writes replies.</li>
 *   <li>The system layer: UnixNative (libc through java.lang.foreign, bound by io.vsock4j.internal.ffm:
 *       AF_UNIX with SCM_RIGHTS, mmap, eventfd, poll, memfd), UnixAbi (the numbers and struct layouts), UnixChannel (a non-blocking
 *       connected socket whose waits another thread can end), UnixListener (the socket file).</li>
 * </ul>
 */
package io.vsock4j.transport.vhostuser;
