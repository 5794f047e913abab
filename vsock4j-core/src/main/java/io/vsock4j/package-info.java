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
 *   <li>{@link io.vsock4j.Vsock}: the default provider (the Java loopback).</li>
 * </ul>
 * Sockets delegate every call to a {@link io.vsock4j.spi.SocketHandle} from a
 * {@link io.vsock4j.spi.SocketProvider}; errors come from the one table in {@link io.vsock4j.spi.Errno}.
 */
package io.vsock4j;
