/**
 * The Java loopback: the LOCAL transport (CID 1) of a machine, delivering on the sending thread.
 *
 * <ul>
 *   <li>{@link io.vsock4j.transport.loopback.LoopbackTransport}: every packet sent comes back into the
 *       same machine, in order, with one delivering thread at a time.</li>
 * </ul>
 */
package io.vsock4j.transport.loopback;
