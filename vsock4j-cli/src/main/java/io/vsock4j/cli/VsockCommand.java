package io.vsock4j.cli;

import io.vsock4j.Vsock;

import io.vsock4j.cli.nc.NcCommand;
import io.vsock4j.cli.perf.PerfCommand;
import io.vsock4j.spi.SocketProvider;
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
 * streams and the provider, and the subcommands (nc, info, perf, test, demo). Subcommands reach it
 * with {@code @ParentCommand}.
 *
 * <p>Exit codes: 0 success, 1 runtime failure (one line naming the errno), 2 usage error (one line).
 * Expected failures never print a stack trace. Runs on the main thread; one instance per invocation.
 */
@Command(name = "vsock", mixinStandardHelpOptions = true, version = "vsock4j 0.1.0",
        description = "AF_VSOCK tools on vsock4j: a netcat, the machine's routing, throughput and conformance.",
        subcommands = {NcCommand.class, InfoCommand.class, PerfCommand.class, TestCommand.class, DemoCommand.class},
        footer = {"", "Examples:", "  vsock info",
                "  vsock nc -l 5000    # in one terminal",
                "  vsock nc 1 5000     # in another: the two meet on your shared machine's CID 1", "  vsock perf --compare --bytes 256M",
                "  vsock test"})
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
        int code = execute(stdio, TransportChoice.Source.standard(), args);
        stdio.err().flush();
        System.exit(code);
    }

    /** Runs one command line and returns its exit code (the launcher's main and the tests use this). */
    public static int execute(Stdio stdio, TransportChoice.Source source, String... args) {
        return commandLine(stdio, source).execute(args);
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
        throw new ParameterException(spec.commandLine(), "missing a command: nc, info, perf, test or demo");
    }

    public Stdio stdio() {
        return stdio;
    }

    public TransportChoice transport() {
        return transport;
    }

    /** The provider for {@code --transport}, opened on first use ({@link CliFailure} when unavailable). */
    /**
     * For commands whose both ends run in this JVM under "auto": the kernel's loopback where allowed,
     * else a machine of this JVM (sharing one with other processes would only add the daemon's hops).
     */
    public SocketProvider inProcessProvider() {
        try {
            return Vsock.provider("auto");
        } catch (java.io.IOException e) {
            throw new CliFailure(e.getMessage());
        }
    }

    public SocketProvider provider() {
        if (provider == null) {
            if (transport != TransportChoice.JAVA && !machine.matches("[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")) {
                throw new ParameterException(spec.commandLine(), "--machine wants 1-64 of A-Z a-z 0-9 . _ -: '" + machine + "'");
            }
            provider = source.open(transport, machine);
        }
        return provider;
    }
}
