package io.vsock4j.cli;

import io.vsock4j.Vsock;
import io.vsock4j.SocketProvider;
import io.vsock4j.transport.kernel.KernelGuard;
import io.vsock4j.transport.kernel.KernelVsock;
import io.vsock4j.transport.shared.SharedMachine;

import java.io.IOException;

/**
 * The global {@code --transport} option: which provider the commands' sockets come from. This enum
 * is the one place that turns the choice into a {@link SocketProvider}; the kernel provider plugs in
 * at {@link #open()}. Any thread.
 */
public enum TransportChoice {
    /**
     * The kernel's AF_VSOCK where it is allowed and has its own loopback, else this user's shared Java
     * machine, so two vsock commands on one host find each other over CID 1 either way. The default.
     */
    AUTO,
    /** A machine of this JVM whose only transport is the Java loopback (CID 1). */
    JAVA,
    /** The kernel's AF_VSOCK; refused outside the project's test guest (see KernelGuard). */
    KERNEL,
    /** The Java loopback shared by this user's processes (one CID 1 and port space, through a daemon). */
    SHARED;

    /** The option's text form. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The provider for this choice; a {@link CliFailure} when it cannot be had here (the kernel's guard
     * refuses kernel sockets outside the test guest, and says why; the shared machine's daemon may fail).
     */
    public SocketProvider open(String sharedMachineName) {
        try {
            return switch (this) {
                case JAVA -> Vsock.defaultProvider();
                case KERNEL -> Vsock.provider(label());
                case AUTO -> {
                    // The library's "auto" falls back to a machine private to this JVM; a command line
                    // falls back to the machine shared with the user's other processes instead.
                    SocketProvider kernel = KernelVsock.providerWithLoopback(KernelGuard.current());
                    yield kernel != null ? kernel : SharedMachine.connect(sharedMachineName);
                }
                case SHARED -> SharedMachine.connect(sharedMachineName);
            };
        } catch (IOException e) {
            throw new CliFailure(e.getMessage());
        }
    }

    /** Where commands get their provider: the real choice in the launcher, a fixed machine in tests. */
    @FunctionalInterface
    public interface Source {
        /** @param sharedMachineName the shared machine to join, for {@link #SHARED} */
        SocketProvider open(TransportChoice choice, String sharedMachineName);

        /** {@link TransportChoice#open(String)}. */
        static Source standard() {
            return TransportChoice::open;
        }
    }
}
