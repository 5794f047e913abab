package io.vsock4j.cli;

/**
 * An expected runtime failure that ends a command with exit code 1 and a one-line message, no stack
 * trace (for example the kernel guard's refusal). Usage errors are picocli's
 * ParameterException instead, exit code 2.
 */
public final class CliFailure extends RuntimeException {
    public CliFailure(String message) {
        super(message, null, false, false);
    }
}
