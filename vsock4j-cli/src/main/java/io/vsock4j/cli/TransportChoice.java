package io.vsock4j.cli;

import io.vsock4j.Vsock;
import io.vsock4j.spi.SocketProvider;

/**
 * The global {@code --transport} option: which provider the commands' sockets come from. This enum
 * is the one place that turns the choice into a {@link SocketProvider}; the kernel provider plugs in
 * at {@link #open()}. Any thread.
 */
public enum TransportChoice {
    /** The kernel's AF_VSOCK when this machine has it, else the Java machine. */
    AUTO,
    /** A machine of this JVM whose only transport is the Java loopback (CID 1). */
    JAVA,
    /** The kernel's AF_VSOCK. */
    KERNEL;

    /** The option's text form. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The provider for this choice; a {@link CliFailure} when it cannot be had here. */
    public SocketProvider open() {
        return switch (this) {
            case JAVA -> Vsock.defaultProvider();
            // The kernel provider (io.vsock4j.transport.kernel) is not merged yet. When it is, KERNEL opens
            // it and AUTO opens it when the machine has AF_VSOCK, else JAVA.
            case KERNEL, AUTO -> throw new CliFailure("kernel transport not available yet");
        };
    }

    /** Where commands get their provider: the real choice in the launcher, a fixed machine in tests. */
    @FunctionalInterface
    public interface Source {
        SocketProvider open(TransportChoice choice);

        /** {@link TransportChoice#open()}. */
        static Source standard() {
            return TransportChoice::open;
        }
    }
}
