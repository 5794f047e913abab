/**
 * A Netty 4.2 transport over vsock4j: vsock stream channels on every vsock4j socket provider, the Java
 * engine's loopback (CID 1), links and shared machine included.
 *
 * <ul>
 *   <li>{@link io.vsock4j.netty.VsockIoHandler}: the event-loop piece (an {@code IoHandler}); its
 *       {@code newFactory()} goes into a {@code MultiThreadIoEventLoopGroup}. It parks the loop thread
 *       until the engine's readiness listener or Netty's wakeup unparks it.</li>
 *   <li>{@link io.vsock4j.netty.VsockChannel} and {@link io.vsock4j.netty.VsockServerChannel}: the
 *       channels, with {@link io.vsock4j.netty.VsockChannelConfig} and
 *       {@link io.vsock4j.netty.VsockServerChannelConfig}, and {@link io.vsock4j.netty.VsockChannelOption}.</li>
 *   <li>{@link io.vsock4j.netty.VsockIoOps} and {@link io.vsock4j.netty.VsockIoEvent}: interest and
 *       readiness between the channels and the handler, as {@link io.vsock4j.Readiness} bits.</li>
 * </ul>
 *
 * The design, and why a readiness API rather than a {@code SelectorProvider}: docs/netty.md.
 */
package io.vsock4j.netty;
