/**
 * The vsock socket API: what an application uses, the same whichever transport carries the bytes.
 *
 * <ul>
 *   <li>{@link io.vsock4j.VsockAddress}: (CID, port, flags), the well-known CIDs, parsing and printing.</li>
 *   <li>{@link io.vsock4j.VsockSocket} and {@link io.vsock4j.VsockServerSocket}: SOCK_STREAM, shaped like
 *       java.net.Socket and ServerSocket.</li>
 *   <li>{@link io.vsock4j.VsockSeqpacketSocket} and {@link io.vsock4j.VsockSeqpacketServerSocket}:
 *       SOCK_SEQPACKET, whole messages with MSG_EOR, MSG_TRUNC and MSG_PEEK.</li>
 *   <li>{@link io.vsock4j.VsockOptions}, {@link io.vsock4j.MessageFlags}, {@link io.vsock4j.MessageInfo}:
 *       the kernel's options and flags with its values.</li>
 *   <li>{@link io.vsock4j.Vsock}: the default provider (the Java loopback) and providers by name.</li>
 *   <li>{@link io.vsock4j.SocketProvider} and {@link io.vsock4j.SocketHandle}: what a whole-socket
 *       implementation provides (the Java engine's machine, the kernel's AF_VSOCK), and
 *       {@link io.vsock4j.SocketProvider.Factory}, how {@code Vsock} finds them.</li>
 * </ul>
 * This package depends on no other package of vsock4j.
 * Sockets delegate every call to a {@link io.vsock4j.SocketHandle} from a
 * {@link io.vsock4j.SocketProvider}; errors come from the one table in {@link io.vsock4j.spi.Errno}.
 */
package io.vsock4j;
