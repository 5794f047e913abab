package io.vsock4j.cli;

/**
 * An expected failure that ends a command with a one-line message and no stack trace: exit code 1
 * for a runtime failure (the errno name belongs in the message), 2 for a usage error found after
 * parsing (options that do not go together).
 */
public final class CliFailure extends RuntimeException {
    private final int exitCode;

    private CliFailure(String message, int exitCode) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    /** A runtime failure: exit code 1. */
    public static CliFailure runtime(String message) {
        return new CliFailure(message, VsockCommand.EXIT_FAILURE);
    }

    /** A usage error: exit code 2. */
    public static CliFailure usage(String message) {
        return new CliFailure(message, VsockCommand.EXIT_USAGE);
    }

    public int exitCode() {
        return exitCode;
    }
}
