package io.vsock4j.cli;

import io.vsock4j.Vsock;

import io.vsock4j.cli.device.DeviceCommand;
import io.vsock4j.cli.nc.NcCommand;
import io.vsock4j.cli.perf.PerfCommand;
import io.vsock4j.cli.proxy.ProxyCommand;
import io.vsock4j.SocketProvider;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The {@code vsock} command: the root that holds the global {@code --transport} option, the standard
 * streams and the provider, and the subcommands (nc, info, perf, test, demo, device, proxy). Subcommands reach it
 * with {@code @ParentCommand}.
 *
 * <p>Exit codes: 0 success, 1 runtime failure (one line naming the errno), 2 usage error (one line).
 * Expected failures never print a stack trace. Runs on the main thread; one instance per invocation.
 */
@Command(name = "vsock", mixinStandardHelpOptions = true, version = "vsock4j 0.1.0",
        description = "AF_VSOCK tools on vsock4j: a netcat, the machine's routing, throughput, conformance, a"
                + " vhost-user-vsock device for QEMU guests, and a proxy between vsock and TCP.",
        subcommands = {NcCommand.class, InfoCommand.class, PerfCommand.class, TestCommand.class, DemoCommand.class,
                DeviceCommand.class, ProxyCommand.class},
        footer = {"", "Examples:", "  vsock info",
                "  vsock nc -l 5000    # in one terminal",
                "  vsock nc 1 5000     # in another: the two meet on your shared machine's CID 1", "  vsock perf --compare --bytes 256M",
                "  vsock test",
                "  vsock device --vm guest-cid=3,socket=/tmp/vm3.vhost,uds-path=/tmp/vm3.vsock   # for QEMU's vhost-user-vsock-pci",
                "  vsock proxy --config allow.yaml 8000 example.com 443   # as AWS Nitro's vsock-proxy"})
public final class VsockCommand implements Runnable {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;

    @Option(names = "--transport", scope = ScopeType.INHERIT, paramLabel = "auto|java|kernel|shared",
            description = "Where sockets come from: auto (the default: the kernel's AF_VSOCK where allowed and looped"
                    + " back, else shared), shared (the Java loopback shared by your processes: two vsock commands"
                    + " can talk), java (this JVM's own machine, Java loopback on CID 1), kernel (AF_VSOCK; only in"
                    + " the test guest or with -Dvsock4j.kernel.allow=true).")
    TransportChoice transport = TransportChoice.AUTO;

    @Option(names = "--machine", scope = ScopeType.INHERIT, paramLabel = "NAME", defaultValue = "${env:VSOCK4J_MACHINE:-default}",
            description = "With --transport shared or auto: which of your shared machines to join (default ${DEFAULT-VALUE};"
                    + " the environment variable VSOCK4J_MACHINE sets another default).")
    String machine;

    @Option(names = "--capture", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "Write every packet of the Java engine's machine(s) to FILE as pcap (LINKTYPE_VSOCK, as the"
                    + " kernel's vsockmon shows them): open it with Wireshark or tshark.")
    java.nio.file.Path captureFile;

    @Option(names = "--capture-snaplen", scope = ScopeType.INHERIT, paramLabel = "BYTES",
            description = "Cut captured packets to BYTES (at least 76, the headers; default ${DEFAULT-VALUE}).")
    int captureSnaplen = io.vsock4j.capture.Capture.DEFAULT_SNAPLEN_BYTES;

    /** Open while the command runs with --capture; closed by {@link #execute}. */
    private io.vsock4j.capture.Capture capture;

    @Spec
    CommandSpec spec;

    private final Stdio stdio;
    private final TransportChoice.Source source;
    private SocketProvider provider;

    public VsockCommand(Stdio stdio, TransportChoice.Source source) {
        this.stdio = stdio;
        this.source = source;
    }

    public static void main(String[] args) {
        Stdio stdio = Stdio.system();
        int code = execute(stdio, TransportChoice.Source.standard(), true, args);
        stdio.err().flush();
        System.exit(code);
    }

    /** Runs one command line and returns its exit code; the provider stays open (it is the caller's, in tests). */
    public static int execute(Stdio stdio, TransportChoice.Source source, String... args) {
        return execute(stdio, source, false, args);
    }

    /** @param closeProvider close the provider the command opened once it is done (the process is about to exit) */
    private static int execute(Stdio stdio, TransportChoice.Source source, boolean closeProvider, String... args) {
        CommandLine cl = commandLine(stdio, source);
        int code = cl.execute(args);
        VsockCommand root = cl.getCommand();
        if (closeProvider) {
            root.closeProvider();
        }
        try {
            root.closeCapture();
        } catch (IOException e) {
            stdio.err().println("vsock: --capture " + root.captureFile + ": " + describe(e));
            return code == EXIT_OK ? EXIT_FAILURE : code;
        }
        return code;
    }

    /**
     * Attaches the --capture file to {@code machine} (the demo's machines, the provider's); does nothing
     * without --capture. Providers that are not Java engine machines cannot be captured here.
     */
    public void capture(io.vsock4j.core.Machine machine) {
        if (captureFile == null) {
            return;
        }
        try {
            if (capture == null) {
                capture = io.vsock4j.capture.Capture.open(captureFile, captureSnaplen);
            }
            capture.attach(machine);
        } catch (IOException | IllegalArgumentException e) {
            throw new CliFailure("--capture " + captureFile + ": " + describe(e));
        }
    }

    private SocketProvider captured(SocketProvider p) {
        if (captureFile != null) {
            if (!(p instanceof io.vsock4j.core.Machine m)) {
                throw new CliFailure("--capture records the Java engine's packets; the kernel's own are seen with"
                        + " vsockmon (ip link add type vsockmon; tcpdump -i vsockmon0), see capture/README.md");
            }
            capture(m);
        }
        return p;
    }

    private void closeCapture() throws IOException {
        if (capture != null) {
            capture.close();
            capture = null;
        }
    }

    /** The picocli tree with vsock4j's error handling: one line per expected error, exit 1 or 2. */
    public static CommandLine commandLine(Stdio stdio, TransportChoice.Source source) {
        CommandLine cl = new CommandLine(new VsockCommand(stdio, source));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setOut(new PrintWriter(stdio.text(), true));
        cl.setErr(new PrintWriter(new java.io.OutputStreamWriter(stdio.err(), StandardCharsets.UTF_8), true));
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine failed = ex.getCommandLine();
            String name = failed.getCommandSpec().qualifiedName();
            failed.getErr().println(name + ": " + oneLine(ex.getMessage()) + " (see '" + name + " --help')");
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, failed, parseResult) -> {
            String name = failed.getCommandSpec().qualifiedName();
            if (cl.getCommand() instanceof VsockCommand root && root.provider instanceof io.vsock4j.core.Machine m
                    && m.isClosed()) {
                // The machine closed under the command: its JVM is exiting (SIGTERM, Ctrl-C) and the exit
                // closed the shared machine's sockets, as a kernel would. ncat says nothing then either.
                return EXIT_FAILURE;
            }
            if (ex instanceof CliFailure f) {
                failed.getErr().println(name + ": " + oneLine(f.getMessage()));
                return EXIT_FAILURE;
            }
            if (ex instanceof IOException || ex instanceof UncheckedIOException) {
                failed.getErr().println(name + ": " + describe(ex));
                return EXIT_FAILURE;
            }
            throw ex; // a bug: let the stack trace show
        });
        return cl;
    }

    /** An I/O failure in one line: its message (the errno name comes first for vsock errors). */
    public static String describe(Throwable e) {
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        String message = t.getMessage();
        return oneLine(message == null || message.isBlank() ? t.getClass().getSimpleName() : message);
    }

    private static String oneLine(String s) {
        String t = s == null ? "" : s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl).strip();
    }

    /** Without a subcommand: a usage error. */
    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing a command: nc, info, perf, test, demo, device or proxy");
    }

    public Stdio stdio() {
        return stdio;
    }

    public TransportChoice transport() {
        return transport;
    }

    /** {@code --machine}: the shared machine to join, checked (a usage error names what is wrong). */
    public String sharedMachineName() {
        if (!machine.matches("[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")) {
            throw new ParameterException(spec.commandLine(), "--machine wants 1-64 of A-Z a-z 0-9 . _ -: '" + machine + "'");
        }
        return machine;
    }

    /**
     * For commands whose both ends run in this JVM under "auto": the kernel's loopback where allowed,
     * else a machine of this JVM (sharing one with other processes would only add the daemon's hops).
     */
    public SocketProvider inProcessProvider() {
        try {
            return captured(Vsock.provider("auto"));
        } catch (java.io.IOException e) {
            throw new CliFailure(e.getMessage());
        }
    }

    /**
     * Closes the provider, if one was opened and is a machine of this JVM: a shared machine's link writes
     * out what the command's sockets sent before it goes (the process exits right after, and the
     * link's queue would go with it).
     */
    private void closeProvider() {
        if (provider instanceof io.vsock4j.core.Machine m) {
            m.close();
        }
    }

    /** The provider for {@code --transport}, opened on first use ({@link CliFailure} when unavailable). */
    public SocketProvider provider() {
        if (provider == null) {
            provider = captured(source.open(transport, transport == TransportChoice.JAVA ? machine : sharedMachineName()));
        }
        return provider;
    }
}
