/**
 * {@code vsock nc}: a netcat for vsock that ends its connections as ncat does.
 * <ul>
 *   <li>{@link io.vsock4j.cli.nc.NcCommand}: the options, checked, into {@link io.vsock4j.cli.nc.NcOptions}.</li>
 *   <li>{@link io.vsock4j.cli.nc.Netcat}: connect or listen, and the rules of when a connection and the run
 *       end (its class comment lists them).</li>
 *   <li>{@code NcEndpoints} opens sockets of either type; {@code NcChannel} is one connected socket with the
 *       framing its type needs ({@code Units}: chunks for STREAM, lines for SEQPACKET).</li>
 *   <li>{@code StdinFeeder}: the one thread that reads stdin for the whole run and half-closes at its EOF.</li>
 *   <li>{@code IdleTimer}: {@code -i}. {@code ExecSession}: {@code --exec}, one process per connection.</li>
 * </ul>
 */
package io.vsock4j.cli.nc;
