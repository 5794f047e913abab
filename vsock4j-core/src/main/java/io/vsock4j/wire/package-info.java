/**
 * The virtio-vsock wire format, shared by the engine and every transport: what a packet is, before any
 * connection gives it meaning. It depends on nothing but the API's address type, so the SPI, the engine
 * and the transports can all see it without seeing each other.
 *
 * <ul>
 *   <li>{@link io.vsock4j.wire.VirtioVsock}: the constants of include/uapi/linux/virtio_vsock.h (ops,
 *       types, flags, sizes).</li>
 *   <li>{@link io.vsock4j.wire.Packet}: one packet, header fields and payload.</li>
 *   <li>{@link io.vsock4j.wire.VirtioVsockHeader}: the 44-byte little-endian header codec and the checks
 *       a packet from outside must pass.</li>
 *   <li>{@link io.vsock4j.wire.PayloadPool}: full-size payload arrays, reused by whoever fills and
 *       whoever finishes with a packet.</li>
 * </ul>
 */
package io.vsock4j.wire;
