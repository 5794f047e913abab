package io.vsock4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code vsock} command: the entry point of the launcher at the repository root. */
@Command(name = "vsock", mixinStandardHelpOptions = true, version = "vsock4j 0.1.0",
        description = "vsock (AF_VSOCK) for the JVM: demo and tools.",
        subcommands = {DemoCommand.class})
public final class VsockCommand implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new VsockCommand()).execute(args));
    }
}
