package io.vsock4j.cli;

import io.vsock4j.VsockAddress;
import io.vsock4j.conformance.Case;
import io.vsock4j.conformance.ConformanceSuite;
import io.vsock4j.conformance.RemoteRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/**
 * {@code vsock test}: the conformance suite ({@link ConformanceSuite}, module vsock4j-conformance) against
 * the provider that {@code --transport} picks. In one process by default: both halves of each case here, over CID 1.
 * With {@code --mode server} and {@code --mode client --peer-cid CID}, two processes (or two machines)
 * each run one half of every case and keep step over a TCP control connection, as vsock_test does.
 * Exit code 0 when every case passed, 1 otherwise. Main thread.
 */
@Command(name = "test", mixinStandardHelpOptions = true,
        description = {"Run the vsock conformance suite (after the kernel's vsock_test) against the chosen transport.",
                "Prints one line per case and 'N passed, N failed'; exits 1 if any case failed.",
                "On a Linux kernel older than a case's change the case must fail as that kernel does, and is",
                "reported DIFFERS with the release that changed it (e.g. SEQPACKET MSG_PEEK before 6.6): not a failure."},
        footer = {"", "Examples:", "  vsock test", "  vsock test --filter seqpacket",
                "  vsock test --mode server --control-port 9000                 # on the machine with CID 3",
                "  vsock test --mode client --peer-cid 3 --control-host 10.0.2.15 --control-port 9000"})
public final class TestCommand implements Callable<Integer> {
    /** Where the halves run. */
    enum Mode { INPROCESS, SERVER, CLIENT }

    @ParentCommand
    VsockCommand root;

    @Spec
    CommandSpec spec;

    @Option(names = "--filter", paramLabel = "TEXT", description = "Run only the cases whose name contains TEXT.")
    String filter;

    @Option(names = "--base-port", paramLabel = "PORT", converter = Converters.Port.class,
            description = "Case n uses port BASE+n (and BASE+n+10000); default ${DEFAULT-VALUE}.")
    int basePort = ConformanceSuite.DEFAULT_BASE_PORT;

    @Option(names = "--mode", paramLabel = "inprocess|server|client",
            description = "inprocess (default): both halves here, over CID 1. server / client: one half each, two processes.")
    Mode mode = Mode.INPROCESS;

    @Option(names = "--peer-cid", paramLabel = "CID", converter = Converters.Cid.class,
            description = "With --mode client: the CID of the machine running --mode server.")
    Integer peerCid;

    @Option(names = "--control-host", paramLabel = "HOST",
            description = "TCP control channel: the server binds it, the client connects to it (default ${DEFAULT-VALUE}).")
    String controlHost = "127.0.0.1";

    @Option(names = "--control-port", paramLabel = "PORT", description = "TCP control port (default ${DEFAULT-VALUE}).")
    int controlPort = 9000;

    @Override
    public Integer call() throws Exception {
        Predicate<String> selected = name -> filter == null || name.contains(filter);
        if (ConformanceSuite.cases().stream().map(Case::name).noneMatch(selected)) {
            throw usage("no case matches --filter '" + filter + "'");
        }
        if ((mode == Mode.CLIENT) != (peerCid != null)) {
            throw usage(mode == Mode.CLIENT ? "--mode client needs --peer-cid CID" : "--peer-cid goes with --mode client");
        }
        if (controlPort < 1 || controlPort > 65535) {
            throw usage("--control-port must be a TCP port, 1..65535: " + controlPort);
        }
        PrintStream out = root.stdio().text();
        int cid = peerCid == null ? VsockAddress.CID_LOCAL : peerCid;
        ConformanceSuite suite = new ConformanceSuite(root.provider(), cid, basePort);
        ConformanceSuite.Summary summary = switch (mode) {
            case INPROCESS -> suite.runInProcess(out, selected);
            case SERVER, CLIENT -> {
                InetSocketAddress control = new InetSocketAddress(controlHost, controlPort);
                Socket socket = mode == Mode.SERVER ? RemoteRun.acceptControl(control) : RemoteRun.connectControl(control);
                yield new RemoteRun(suite, mode == Mode.SERVER).run(socket, out, selected);
            }
        };
        return summary.failed() == 0 ? VsockCommand.EXIT_OK : VsockCommand.EXIT_FAILURE;
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
