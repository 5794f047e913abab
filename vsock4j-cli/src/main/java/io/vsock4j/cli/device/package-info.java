/**
 * {@code vsock device}: vsock4j's vhost-user-vsock device for QEMU guests, with vhost-device-vsock's
 * {@code --vm} option, and hybrid vsock (Firecracker's Unix sockets) for the host's other programs.
 *
 * <ul>
 *   <li>{@link io.vsock4j.cli.device.DeviceCommand}: the options, the help with a QEMU command line,
 *       the wait for SIGINT or SIGTERM.</li>
 *   <li>{@link io.vsock4j.cli.device.VmSpec}: one {@code --vm}, parsed and checked; VmSpecs: the checks
 *       across several (a CID or a socket file used twice).</li>
 *   <li>{@link io.vsock4j.cli.device.DeviceHost}: the host machine (H2G: the devices, LOCAL: the Java
 *       loopback) and the hybrid bridges, started and closed together.</li>
 *   <li>OneLineLog: the core's System.Logger lines, one per event on standard error.</li>
 * </ul>
 */
package io.vsock4j.cli.device;
