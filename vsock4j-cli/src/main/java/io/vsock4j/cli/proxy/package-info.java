/**
 * {@code vsock proxy}: relays between vsock and TCP, each way.
 * <ul>
 *   <li>{@link io.vsock4j.cli.proxy.ProxyCommand}: the options (vsock-proxy's, plus {@code --tcp-listen}), the
 *       start-up allowlist check, and running the proxy until killed.</li>
 *   <li>{@code Proxy}: the acceptor thread, the bounded worker pool, closing everything.</li>
 *   <li>{@code Relay}: one connection, a blocking copy per direction; half-close, backpressure, closing.
 *       {@code CopyBuffer}: the direct buffer of one copy, 128 KiB that grows to a MiB for bulk streams.</li>
 *   <li>{@code Inbound} listens (vsock or TCP), {@code Outbound} dials (TCP after the allowlist, or vsock),
 *       {@code End} is one connected socket of either kind.</li>
 *   <li>{@code Allowlist}: vsock-proxy's YAML file and the check; {@code Resolver}: names to addresses, again
 *       for each connection.</li>
 *   <li>{@code TcpAddresses}: the TCP port and {@code [ADDR:]PORT} words of the command line.</li>
 * </ul>
 */
package io.vsock4j.cli.proxy;
