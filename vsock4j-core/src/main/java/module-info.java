/**
 * vsock4j: AF_VSOCK for the JVM.
 *
 * <ul>
 *   <li>{@code io.vsock4j}: the socket API (addresses, stream and SEQPACKET sockets, options, flags).</li>
 *   <li>{@code io.vsock4j.spi}: what a provider or a packet transport implements; the errno table.</li>
 *   <li>{@code io.vsock4j.engine}: the virtio-vsock protocol engine (header codec, connection state
 *       machine, credit), shared by every user-space transport.</li>
 *   <li>{@code io.vsock4j.core}: the routing core: a machine, its transports by role, bind and route rules.</li>
 *   <li>{@code io.vsock4j.transport.*}: one package per transport.</li>
 *   <li>{@code io.vsock4j.capture}: packet capture as pcap (LINKTYPE_VSOCK), for Wireshark and tshark.</li>
 * </ul>
 */
module io.vsock4j {
    requires jdk.net; // SO_PEERCRED: the shared machine's daemon admits only its own user
    exports io.vsock4j;
    exports io.vsock4j.spi;
    exports io.vsock4j.engine;
    exports io.vsock4j.core;
    exports io.vsock4j.transport.loopback;
    exports io.vsock4j.transport.link;
    exports io.vsock4j.capture;
    exports io.vsock4j.transport.kernel;
    exports io.vsock4j.transport.shared;
}
