package io.vsock4j.cli.nc;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.cli.Converters;
import io.vsock4j.cli.VsockCommand;
import io.vsock4j.core.Machine;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code vsock nc}: a netcat for vsock, shaped like {@code ncat --vsock}. Parses and checks the options,
 * then hands over to {@link Netcat}. Main thread.
 */
@Command(name = "nc", mixinStandardHelpOptions = true,
        description = {"Connect to CID:PORT, or listen on PORT, and pass stdin to the peer and the peer's bytes to stdout.",
                "As ncat: EOF on stdin half-closes (shuts the write side) and reading goes on. A listener's connection",
                "ends at the peer's EOF; a client ends once both the peer's EOF and stdin's EOF came. Binary data passes unchanged."},
        footer = {"", "Examples:",
                "  vsock nc -l 5000 > received.bin              # receive one connection",
                "  vsock nc 1 5000 < file.bin                   # send a file to CID 1 (local), port 5000",
                "  vsock nc -l -k --exec 'tr a-z A-Z' 5000      # an upper-casing server, one process per client",
                "  vsock nc -l 5000 < file.bin                  # serve a file to one client ...",
                "  vsock nc --recv-only 1 5000 > file.bin       # ... which ends at the listener's EOF",
                "  vsock nc --seqpacket 1 5001                  # each stdin line is one message",
                "  vsock nc --hybrid 3=/run/vm3.vsock 3 5000    # a Firecracker/Cloud Hypervisor guest, over its Unix socket",
                "  vsock nc --hybrid 3=/run/vm3.vsock -l 52     # ... and what it dials on host port 52 (/run/vm3.vsock_52)"})
public final class NcCommand implements Callable<Integer> {
    @ParentCommand
    VsockCommand root;

    @Spec
    CommandSpec spec;

    @Option(names = {"-l", "--listen"}, description = "Listen on PORT instead of connecting.")
    boolean listen;

    @Option(names = {"-k", "--keep-open"}, description = "With -l: after a client ends, accept the next one.")
    boolean keepOpen;

    @Option(names = "--seqpacket", description = "SOCK_SEQPACKET: each stdin line (without its newline) is one "
            + "message; each message received is written as one line.")
    boolean seqpacket;

    @Option(names = {"-e", "--exec"}, paramLabel = "CMD",
            description = "Run CMD (with /bin/sh -c) per connection, its stdin and stdout on the socket.")
    String exec;

    @Option(names = "--send-only", description = "Only send: never read the peer; end at stdin's EOF.")
    boolean sendOnly;

    @Option(names = "--recv-only", description = "Only receive: send nothing; a client ends at the peer's EOF.")
    boolean recvOnly;

    @Option(names = "--no-shutdown", description = "Do not half-close at stdin's EOF.")
    boolean noShutdown;

    @Option(names = {"-i", "--idle-timeout"}, paramLabel = "SECONDS",
            description = "End after SECONDS with nothing read from stdin or the peer (a client: exit 1; a listener,"
                    + " timing only while a client is connected: exit 2).")
    Double idleSeconds;

    @Option(names = {"-v", "--verbose"}, description = "Say on stderr who connected (CID:PORT).")
    boolean verbose;

    @Option(names = "--cid", paramLabel = "CID", converter = Converters.Cid.class,
            description = "With -l: the CID to bind (default any).")
    Integer bindCid;

    @Option(names = {"-w", "--timeout"}, paramLabel = "SECONDS",
            description = "Connect timeout in seconds (default 2, the kernel's).")
    Double timeoutSeconds;

    @Option(names = "--hybrid", paramLabel = "CID=PATH",
            description = "Guest CID is behind Firecracker or Cloud Hypervisor, its vsock the Unix socket PATH (the VMM's"
                    + " uds_path); repeatable. nc then runs on this JVM's own machine (CID 2) and reaches only these"
                    + " guests; with -l it serves PATH_PORT for each. Not with --transport.")
    List<String> hybrid = new ArrayList<>();

    @Parameters(paramLabel = "[CID] PORT", arity = "1..2",
            description = "Connect: CID PORT (CID a number or local, host, hypervisor). Listen: PORT.")
    List<String> positional;

    @Override
    public Integer call() throws Exception {
        NcOptions options = options();
        if (hybrid.isEmpty()) {
            return new Netcat(root.provider(), root.stdio(), options).run();
        }
        Map<Integer, Path> guests = hybridGuests();
        try (Machine machine = HybridGuests.machine(guests, options.timeoutMillis())) {
            root.capture(machine);
            return new Netcat(machine, root.stdio(), options).run();
        }
    }

    /** The --hybrid table, checked: a usage error for a bad value or together with --transport. */
    private Map<Integer, Path> hybridGuests() {
        CommandLine parent = spec.commandLine().getParent();
        if (spec.commandLine().getParseResult().hasMatchedOption("--transport")
                || (parent != null && parent.getParseResult().hasMatchedOption("--transport"))) {
            throw usage("--hybrid brings its own machine (CID 2, the hybrid guests only); leave out --transport");
        }
        try {
            return HybridGuests.parse(hybrid);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    /** The options checked for consistency; usage errors as ParameterException (exit 2). */
    NcOptions options() {
        SocketType type = seqpacket ? SocketType.SEQPACKET : SocketType.STREAM;
        if (sendOnly && recvOnly) {
            throw usage("--send-only and --recv-only exclude each other");
        }
        if (exec != null && (sendOnly || recvOnly || noShutdown || idleSeconds != null)) {
            throw usage("--exec connects the socket to CMD; --send-only, --recv-only, --no-shutdown and -i do not apply");
        }
        long idleMillis = idleSeconds == null ? 0 : millis("--idle-timeout", idleSeconds);
        if (listen) {
            if (positional.size() != 1) {
                throw usage("with -l give only PORT (to bind a CID use --cid CID)");
            }
            if (timeoutSeconds != null) {
                throw usage("--timeout is a connect timeout; it does not apply with -l");
            }
            int cid = bindCid == null ? VsockAddress.CID_ANY : bindCid;
            return new NcOptions(true, keepOpen, type, exec, cid, port(positional.get(0)), 0,
                    sendOnly, recvOnly, noShutdown, idleMillis, verbose);
        }
        if (keepOpen || bindCid != null) {
            throw usage((keepOpen ? "-k" : "--cid") + " needs -l (listen mode)");
        }
        if (positional.size() != 2) {
            throw usage("missing PORT: connect takes CID PORT (or use -l PORT to listen)");
        }
        int connectMillis = timeoutSeconds == null ? 0 : millis("--timeout", timeoutSeconds);
        return new NcOptions(false, false, type, exec, cid(positional.get(0)), port(positional.get(1)), connectMillis,
                sendOnly, recvOnly, noShutdown, idleMillis, verbose);
    }

    private int millis(String option, double seconds) {
        if (!(seconds > 0) || seconds > Integer.MAX_VALUE / 1000.0) {
            throw usage(option + " must be a positive number of seconds: " + seconds);
        }
        return (int) Math.max(1, Math.round(seconds * 1000));
    }

    private int cid(String text) {
        try {
            return new Converters.Cid().convert(text);
        } catch (TypeConversionException e) {
            throw usage(e.getMessage());
        }
    }

    private int port(String text) {
        try {
            return new Converters.Port().convert(text);
        } catch (TypeConversionException e) {
            throw usage(e.getMessage());
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
