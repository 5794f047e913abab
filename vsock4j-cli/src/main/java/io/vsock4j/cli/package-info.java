/**
 * The {@code vsock} command line (picocli): the root command, the small subcommands and what every
 * subcommand shares. The larger subcommands live in sub-packages: {@code nc} (netcat), {@code perf}
 * (vsock_perf's throughput test), {@code device} (a vhost-user-vsock device for QEMU, with hybrid
 * vsock) and the conformance suite that {@code vsock test} runs.
 *
 * <ul>
 *   <li>{@link io.vsock4j.cli.VsockCommand}: the root, with the global {@code --transport} option, the
 *       exit codes (0, 1 runtime failure, 2 usage error) and the launcher's {@code main}.</li>
 *   <li>{@link io.vsock4j.cli.TransportChoice}: the one place a {@code --transport} value becomes a
 *       {@link io.vsock4j.SocketProvider}.</li>
 *   <li>{@link io.vsock4j.cli.InfoCommand} and {@link io.vsock4j.cli.MachineView}: {@code vsock info},
 *       the local CID, the transport in each slot and where CIDs 1, 2 and 3 would route.</li>
 *   <li>{@link io.vsock4j.cli.DemoCommand} and {@link io.vsock4j.cli.NestedDemo}: {@code vsock demo},
 *       a packet-by-packet tour of the loopback, then nested machines L0/L1/L2.</li>
 *   <li>{@link io.vsock4j.cli.TestCommand}: {@code vsock test}, the conformance suite in one process or
 *       split between two.</li>
 *   <li>{@link io.vsock4j.cli.Converters}: picocli converters for CIDs, ports (unsigned 32-bit, via
 *       {@link io.vsock4j.VsockAddress#parseCid} and {@link io.vsock4j.VsockAddress#parsePort}) and byte
 *       counts.</li>
 *   <li>{@link io.vsock4j.cli.Stdio}: the three standard streams a command uses, so tests can hand in
 *       their own; {@link io.vsock4j.cli.CliFailure}: an expected failure, one line and exit 1.</li>
 * </ul>
 */
package io.vsock4j.cli;
