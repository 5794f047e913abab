package io.vsock4j.cli.nc;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.cli.Converters;
import io.vsock4j.cli.VsockCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code vsock nc}: a netcat for vsock, shaped like {@code ncat --vsock}. Parses and checks the options,
 * then hands over to {@link Netcat}. Main thread.
 */
@Command(name = "nc", mixinStandardHelpOptions = true,
        description = {"Connect to CID:PORT, or listen on PORT, and pass stdin to the peer and the peer's bytes to stdout.",
                "EOF on stdin half-closes (shuts the write side) and reading goes on; a connection ends once the peer's",
                "side reached EOF and the peer takes nothing more (stdin ended, or the peer closed). Binary data passes unchanged."},
        footer = {"", "Examples:",
                "  vsock nc -l 5000 > received.bin              # receive one connection",
                "  vsock nc 1 5000 < file.bin                   # send a file to CID 1 (local), port 5000",
                "  vsock nc -l -k --exec 'tr a-z A-Z' 5000      # an upper-casing server, one process per client",
                "  vsock nc --seqpacket 1 5001                  # each stdin line is one message"})
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

    @Option(names = "--cid", paramLabel = "CID", converter = Converters.Cid.class,
            description = "With -l: the CID to bind (default any).")
    Integer bindCid;

    @Option(names = {"-w", "--timeout"}, paramLabel = "SECONDS",
            description = "Connect timeout in seconds (default 2, the kernel's).")
    Double timeoutSeconds;

    @Parameters(paramLabel = "[CID] PORT", arity = "1..2",
            description = "Connect: CID PORT (CID a number or local, host, hypervisor). Listen: PORT.")
    List<String> positional;

    @Override
    public Integer call() throws Exception {
        new Netcat(root.provider(), root.stdio(), options()).run();
        return VsockCommand.EXIT_OK;
    }

    /** The options checked for consistency; usage errors as ParameterException (exit 2). */
    NcOptions options() {
        SocketType type = seqpacket ? SocketType.SEQPACKET : SocketType.STREAM;
        if (listen) {
            if (positional.size() != 1) {
                throw usage("with -l give only PORT (to bind a CID use --cid CID)");
            }
            if (timeoutSeconds != null) {
                throw usage("--timeout is a connect timeout; it does not apply with -l");
            }
            int cid = bindCid == null ? VsockAddress.CID_ANY : bindCid;
            return new NcOptions(true, keepOpen, type, exec, cid, port(positional.get(0)), 0);
        }
        if (keepOpen || bindCid != null) {
            throw usage((keepOpen ? "-k" : "--cid") + " needs -l (listen mode)");
        }
        if (positional.size() != 2) {
            throw usage("missing PORT: connect takes CID PORT (or use -l PORT to listen)");
        }
        return new NcOptions(false, false, type, exec, cid(positional.get(0)), port(positional.get(1)), timeoutMillis());
    }

    private int timeoutMillis() {
        if (timeoutSeconds == null) {
            return 0;
        }
        if (!(timeoutSeconds > 0) || timeoutSeconds > Integer.MAX_VALUE / 1000.0) {
            throw usage("--timeout must be a positive number of seconds: " + timeoutSeconds);
        }
        return (int) Math.max(1, Math.round(timeoutSeconds * 1000));
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
