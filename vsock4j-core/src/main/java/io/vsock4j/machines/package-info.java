/**
 * Where vsock4j's machines are put together from the routing core and the transports: the one package
 * that depends on both, so that neither depends on the other.
 *
 * <ul>
 *   <li>{@link io.vsock4j.machines.Machines}: the Java loopback machine and the providers by name
 *       (java, kernel, auto, shared).</li>
 *   <li>{@link io.vsock4j.machines.StandardProviders}: the same names as a
 *       {@link io.vsock4j.SocketProvider.Factory} service, which is how {@link io.vsock4j.Vsock} finds them.</li>
 *   <li>{@link io.vsock4j.machines.Topology}: nested machines L0/L1/L2 in one JVM, for tests and the demo.</li>
 * </ul>
 */
package io.vsock4j.machines;
