/**
 * vsock4j: AF_VSOCK for the JVM.
 *
 * <ul>
 *   <li>{@code io.vsock4j}: the socket API (addresses, stream and SEQPACKET sockets, options, flags).</li>
 *   <li>{@code io.vsock4j.spi}: what a packet transport implements; the errno table.</li>
 *   <li>{@code io.vsock4j.wire}: the virtio-vsock packet and header, shared by the engine and transports.</li>
 *   <li>{@code io.vsock4j.engine}: the virtio-vsock protocol engine (header codec, connection state
 *       machine, credit), shared by every user-space transport.</li>
 *   <li>{@code io.vsock4j.core}: the routing core: a machine, its transports by role, bind and route rules.</li>
 *   <li>{@code io.vsock4j.transport.*}: one package per transport.</li>
 *   <li>{@code io.vsock4j.internal.ffm} (not exported): libc bound through java.lang.foreign with errno
 *       captured, and errno turned into exceptions, for the transports that call C.</li>
 *   <li>{@code io.vsock4j.machines}: machines and providers assembled from the core and the transports.</li>
 *   <li>{@code io.vsock4j.capture}: packet capture as pcap (LINKTYPE_VSOCK), for Wireshark and tshark.</li>
 *   <li>{@code io.vsock4j.net}: java.net sockets over vsock (a SocketFactory) for clients written for TCP.</li>
 * </ul>
 */
module io.vsock4j {
    uses io.vsock4j.SocketProvider.Factory;
    provides io.vsock4j.SocketProvider.Factory with io.vsock4j.machines.StandardProviders;
    requires jdk.net; // SO_PEERCRED: the shared machine's daemon admits only its own user
    exports io.vsock4j;
    exports io.vsock4j.spi;
    exports io.vsock4j.wire;
    exports io.vsock4j.engine;
    exports io.vsock4j.core;
    exports io.vsock4j.machines;
    exports io.vsock4j.transport.loopback;
    exports io.vsock4j.transport.link;
    exports io.vsock4j.capture;
    exports io.vsock4j.net;
    exports io.vsock4j.transport.kernel;
    exports io.vsock4j.transport.shared;
    exports io.vsock4j.transport.vhostuser;
    exports io.vsock4j.transport.hybrid;
}
