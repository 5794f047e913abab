/**
 * {@code vsock perf}: throughput measured as the kernel's vsock_perf does, and compared with the sockets
 * Java already has.
 *
 * <ul>
 *   <li>{@link io.vsock4j.cli.perf.PerfCommand}: the options; picks a mode.</li>
 *   <li>{@code OneEnd}: receiver or sender against another process (vsock_perf itself, if wanted): the
 *       wire carries only the data, and the rate leaves out a warm-up ({@code --omit}).</li>
 *   <li>{@code Transfer}: the two measured loops, and the window that marks the warm-up's end.</li>
 *   <li>{@code Comparison}, {@code Rounds}, {@code Stats}: {@code --compare} and {@code --local}: warm-up
 *       rounds, then timed rounds with the transports interleaved, reported as median and spread.</li>
 *   <li>{@code PairTransfer}: one in-process transfer over a fresh {@link io.vsock4j.cli.perf.StreamPair}.</li>
 *   <li>{@link io.vsock4j.cli.perf.StreamPair}: a connected pair over vsock, TCP or a Unix socket, the same
 *       set-up the JMH benchmarks (vsock4j-bench) use, so both measure the same sockets.</li>
 *   <li>{@code Json}: the few pieces of JSON {@code --json} prints.</li>
 * </ul>
 */
package io.vsock4j.cli.perf;
