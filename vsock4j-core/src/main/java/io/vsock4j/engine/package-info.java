/**
 * The virtio-vsock protocol engine, written once and shared by every user-space transport.
 *
 * <ul>
 *   <li>{@link io.vsock4j.engine.VirtioVsock}: the wire constants (ops, types, flags, sizes).</li>
 *   <li>{@link io.vsock4j.engine.Packet} and {@link io.vsock4j.engine.VirtioVsockHeader}: a packet and the
 *       44-byte little-endian header codec.</li>
 *   <li>{@link io.vsock4j.engine.Connection} and {@link io.vsock4j.engine.ConnectionState}: the per-connection
 *       state machine and the blocking send/receive on top of it.</li>
 *   <li>{@link io.vsock4j.engine.Credit}: flow control (buf_alloc, fwd_cnt, when to announce).</li>
 *   <li>{@code ReceiveQueue}: the bytes and messages waiting for the reader.</li>
 * </ul>
 */
package io.vsock4j.engine;
