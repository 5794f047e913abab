/**
 * The virtio-vsock protocol engine, written once and shared by every user-space transport.
 *
 * <p>Two layers. The protocol is single-threaded and knows no locks, threads or clocks, so a test can
 * drive it packet by packet; the blocking layer over it owns the locks and the waiting.
 *
 * <ul>
 *   <li>{@link io.vsock4j.engine.ConnectionProtocol}: one connection's state machine (handshake, credit,
 *       shutdown, reset): packets and socket calls in, packets and wake-ups out.</li>
 *   <li>{@link io.vsock4j.engine.ConnectionState}: where a connection is, its phase and both sides'
 *       shutdown flags in one value.</li>
 *   <li>{@link io.vsock4j.engine.Credit}: flow control (buf_alloc, fwd_cnt, when to announce).</li>
 *   <li>{@code ReceiveQueue}: the bytes and messages waiting for the reader.</li>
 *   <li>{@link io.vsock4j.engine.Connection}: the blocking connect, shutdown and close over the
 *       protocol, its lock, and who delivers; {@code ConnectionSender} and {@code ConnectionReceiver}:
 *       its write and read sides.</li>
 *   <li>{@code Wakeups}: how a blocked call waits (spin, then park) and is woken.</li>
 * </ul>
 */
package io.vsock4j.engine;
