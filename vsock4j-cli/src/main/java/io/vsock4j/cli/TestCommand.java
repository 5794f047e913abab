package io.vsock4j.cli;

import io.vsock4j.VsockAddress;
import io.vsock4j.cli.conformance.Case;
import io.vsock4j.cli.conformance.ConformanceSuite;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/**
 * {@code vsock test}: the conformance suite ({@link ConformanceSuite}) against the provider that
 * {@code --transport} picks. In one process by default: both halves of each case here, over CID 1.
 * Exit code 0 when every case passed, 1 otherwise. Main thread.
 */
@Command(name = "test", mixinStandardHelpOptions = true,
        description = {"Run the vsock conformance suite (after the kernel's vsock_test) against the chosen transport.",
                "Prints one line per case and 'N passed, N failed'; exits 1 if any case failed."},
        footer = {"", "Examples:", "  vsock test", "  vsock test --filter seqpacket"})
public final class TestCommand implements Callable<Integer> {
    @ParentCommand
    VsockCommand root;

    @Spec
    CommandSpec spec;

    @Option(names = "--filter", paramLabel = "TEXT", description = "Run only the cases whose name contains TEXT.")
    String filter;

    @Option(names = "--base-port", paramLabel = "PORT", converter = Converters.Port.class,
            description = "Case n uses port BASE+n (and BASE+n+10000); default ${DEFAULT-VALUE}.")
    int basePort = ConformanceSuite.DEFAULT_BASE_PORT;

    @Override
    public Integer call() throws Exception {
        Predicate<String> selected = name -> filter == null || name.contains(filter);
        if (ConformanceSuite.cases().stream().map(Case::name).noneMatch(selected)) {
            throw new ParameterException(spec.commandLine(), "no case matches --filter '" + filter + "'");
        }
        PrintStream out = root.stdio().text();
        ConformanceSuite suite = new ConformanceSuite(root.provider(), VsockAddress.CID_LOCAL, basePort);
        ConformanceSuite.Summary summary = suite.runInProcess(out, selected);
        return summary.failed() == 0 ? VsockCommand.EXIT_OK : VsockCommand.EXIT_FAILURE;
    }
}
