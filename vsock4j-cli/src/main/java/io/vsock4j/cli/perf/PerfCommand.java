package io.vsock4j.cli.perf;

import io.vsock4j.VsockAddress;
import io.vsock4j.cli.Converters;
import io.vsock4j.cli.TransportChoice;
import io.vsock4j.cli.VsockCommand;
import io.vsock4j.SocketProvider;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code vsock perf}: throughput like the kernel's tools/testing/vsock/vsock_perf, whose wire protocol
 * (none: connect, send the bytes, close) and options it shares, so either can be the other's peer. A
 * receiver by default, a sender with {@code --sender CID}; each leaves a warm-up out of its rate
 * ({@code --omit}). {@code --local} and {@code --compare} run both ends in this JVM, in warm-up and timed
 * rounds ({@link Rounds}). Main thread (plus a receiver thread for the in-process modes).
 */
@Command(name = "perf", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure vsock throughput as the kernel's vsock_perf does, and be its peer:",
                "the same wire (connect, send, close) and the same options.",
                "Receiver by default: one connection, read to EOF. --sender CID sends --bytes.",
                "Each end prints its warm rate, leaving out the first --omit seconds (at most",
                "half the run; the JVM compiles its loops then), and its whole-run rate, the",
                "figure vsock_perf prints.",
                "--compare runs vsock (CID 1), TCP on 127.0.0.1 and a Unix domain socket in",
                "this JVM: each warms up for --warm-up seconds, then --rounds timed rounds run",
                "the transports interleaved. It prints each one's median and spread (min,",
                "max), the ratios, and how many rounds ran. --local: the same, vsock alone."},
        footer = {"", "Examples:",
                "  vsock perf --compare             # about 20 s idle; --json for scripts",
                "  vsock perf --port 1234           # receiver; vsock_perf --sender CID too",
                "  vsock perf --sender 3 --bytes 4G # to a receiver, or vsock_perf, on CID 3",
                "  vsock perf --sender 3 --omit 0   # nothing left out, as vsock_perf"})
public final class PerfCommand implements Callable<Integer> {
    /** vsock_perf's DEFAULT_PORT. */
    static final int DEFAULT_PORT = 1234;
    /** What --sender sends without --bytes (vsock_perf's 64 KiB is over before a JVM has compiled anything). */
    static final long DEFAULT_SEND_BYTES = 1L << 30;
    /**
     * What each in-process transfer moves without --bytes: long enough that a round is not a JIT event,
     * and that TCP is past its start. A fresh loopback TCP connection on a 2-vCPU VM ran its first GiB at
     * up to 4 times its steady rate (46 to 59 Gbit/s against 12 to 17), so 1 GiB rounds put TCP's median
     * anywhere between the two and vsock/TCP 30% below JMH's; with 8 GiB every TCP round was steady and
     * the ratios came within 5% of JMH's (docs/benchmarks.md).
     */
    static final long DEFAULT_ROUND_BYTES = 8L << 30;
    static final int DEFAULT_TIMED_ROUNDS = 7;
    static final double DEFAULT_WARM_UP_SECONDS = 4;
    /** vsock_perf's DEFAULT_BUF_SIZE_BYTES. */
    static final int DEFAULT_PEER_BUF_BYTES = 128 << 10;
    /** StreamThroughput's CHUNK_BYTES (vsock4j-bench), so that --compare measures what docs/benchmarks.md quotes. */
    static final int DEFAULT_IN_PROCESS_BUF_BYTES = 64 << 10;

    @ParentCommand
    VsockCommand root;

    @Spec
    CommandSpec spec;

    @Option(names = "--sender", paramLabel = "CID", converter = Converters.Cid.class,
            description = "Send to CID instead of receiving.")
    Integer senderCid;

    @Option(names = "--port", paramLabel = "PORT", converter = Converters.Port.class,
            description = "Port to listen on or connect to (default ${DEFAULT-VALUE}, as vsock_perf).")
    int port = DEFAULT_PORT;

    @Option(names = "--bytes", paramLabel = "BYTES", converter = Converters.Bytes.class,
            description = "Bytes to send, with K, M, G suffixes (default 1G, and 8G per transfer for --compare"
                    + " and --local, past TCP's fast start; vsock_perf's default is 64K).")
    Long bytes;

    @Option(names = "--buf-size", paramLabel = "BYTES", converter = Converters.Bytes.class,
            description = "Size of each write and read (default 128K, as vsock_perf; 64K for --compare and"
                    + " --local, as the JMH benchmarks they are checked against).")
    Long bufSizeOption;

    @Option(names = "--vsk-size", paramLabel = "BYTES", converter = Converters.Bytes.class,
            description = "SO_VM_SOCKETS_BUFFER_SIZE (and _MAX_SIZE) of the sockets (default 256K, as vsock_perf).")
    long vskSize = StreamPair.DEFAULT_VSK_BYTES;

    @Option(names = "--omit", paramLabel = "SECONDS",
            description = "Receiver and sender: leave the first SECONDS of the run, at most half of it, out of the"
                    + " warm rate, as iperf3 --omit (default ${DEFAULT-VALUE}; 0 for none).")
    double omitSeconds = 2;

    @Option(names = "--local", description = "Run receiver and sender in this JVM over CID 1, in rounds.")
    boolean local;

    @Option(names = "--compare", description = "Rounds of vsock (CID 1), TCP on 127.0.0.1 and a Unix domain socket"
            + " in this JVM; print each one's median and spread, and the ratios.")
    boolean compare;

    @Option(names = "--rounds", paramLabel = "N",
            description = "--compare, --local: timed rounds (default ${DEFAULT-VALUE}).")
    int timedRounds = DEFAULT_TIMED_ROUNDS;

    @Option(names = "--warm-up", paramLabel = "SECONDS",
            description = "--compare, --local: untimed transfers first, until each transport has run for SECONDS"
                    + " (default ${DEFAULT-VALUE}; 0 for none).")
    double warmUpSeconds = DEFAULT_WARM_UP_SECONDS;

    @Option(names = "--json", description = "Print the result as one line of JSON (progress still goes to stderr).")
    boolean json;

    /** The --buf-size in effect, checked. */
    private int bufSize;

    @Override
    public Integer call() throws Exception {
        check();
        bufSize = bufSizeOption != null ? (int) (long) bufSizeOption
                : local || compare ? DEFAULT_IN_PROCESS_BUF_BYTES : DEFAULT_PEER_BUF_BYTES;
        PrintStream out = root.stdio().text();
        PrintStream progress = root.stdio().err();
        boolean inProcess = local || compare;
        // Both ends in this JVM: under "auto" there is no one to share a machine with, so the transfer
        // runs on the kernel's loopback where allowed, else on a machine of this JVM.
        SocketProvider provider = inProcess && root.transport() == TransportChoice.AUTO
                ? root.inProcessProvider() : root.provider();
        if (inProcess) {
            long perTransfer = bytes != null ? bytes : DEFAULT_ROUND_BYTES;
            Map<String, String> labels = new LinkedHashMap<>();
            labels.put(StreamPair.VSOCK, "vsock (" + provider.name() + ", CID 1)");
            if (compare) {
                labels.put(StreamPair.TCP, "tcp (127.0.0.1)");
                labels.put(StreamPair.UNIX, "unix domain socket");
            }
            try (PairTransfer transfers = new PairTransfer(provider, port, vskSize, perTransfer, bufSize)) {
                new Comparison(labels, perTransfer, bufSize, Math.round(warmUpSeconds * 1e9), timedRounds)
                        .run(transfers, out, progress, json);
            }
            return VsockCommand.EXIT_OK;
        }
        long omitNanos = Math.round(omitSeconds * 1e9);
        Transfer.Result r;
        String role;
        if (senderCid != null) {
            role = "tx";
            r = OneEnd.send(provider, VsockAddress.of(senderCid, port), vskSize,
                    bytes != null ? bytes : DEFAULT_SEND_BYTES, bufSize, omitNanos);
        } else {
            role = "rx";
            r = OneEnd.receive(provider, port, vskSize, bufSize, omitNanos, progress);
        }
        out.println(json ? OneEnd.json(role, r) : OneEnd.text(role, r));
        return VsockCommand.EXIT_OK;
    }

    private void check() {
        if (bufSizeOption != null && bufSizeOption > Integer.MAX_VALUE - 8) {
            throw new ParameterException(spec.commandLine(), "--buf-size is too large: " + bufSizeOption);
        }
        if (senderCid != null && (local || compare)) {
            throw new ParameterException(spec.commandLine(), "--sender runs one side; --local and --compare run both in this JVM");
        }
        if (timedRounds < 1) {
            throw new ParameterException(spec.commandLine(), "--rounds wants 1 or more: " + timedRounds);
        }
        for (double seconds : new double[] {omitSeconds, warmUpSeconds}) {
            if (!(seconds >= 0) || seconds > 1e6) {
                throw new ParameterException(spec.commandLine(), "--omit and --warm-up want seconds, 0 or more: " + seconds);
            }
        }
    }
}
