package io.vsock4j.machines;

import io.vsock4j.SocketProvider;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.kernel.KernelGuard;
import io.vsock4j.transport.kernel.KernelProvider;
import io.vsock4j.transport.kernel.KernelVsock;
import io.vsock4j.transport.loopback.LoopbackTransport;
import io.vsock4j.transport.shared.SharedMachine;

import java.io.IOException;
import java.util.List;

/**
 * The machines and providers vsock4j assembles from its own parts, in one place: the routing core knows
 * no transport, each transport knows only the SPI, and this class puts them together. {@link io.vsock4j.Vsock}
 * reaches it through {@link StandardProviders}.
 *
 * @see io.vsock4j.Vsock
 */
public final class Machines {
    /** The provider names {@link #provider} knows. */
    public static final List<String> PROVIDER_NAMES = List.of("java", "kernel", "auto", "shared");

    private Machines() {
    }

    /** A machine with only the Java loopback: CID 1, what the kernel offers with vsock_loopback alone. */
    public static Machine loopback() {
        return Machine.builder().name("loopback").transport(new LoopbackTransport()).build();
    }

    /**
     * A new provider by name (see {@link io.vsock4j.Vsock#provider}), or null for a name it does not know:
     * "java" {@link #loopback()}, "kernel" the guarded kernel provider, "auto" the kernel where allowed and
     * it has its own loopback else {@link #loopback()}, "shared" this user's default shared machine.
     */
    public static SocketProvider provider(String name) throws IOException {
        return switch (name) {
            case "java" -> loopback();
            case "kernel" -> KernelVsock.checkedProvider();
            case "auto" -> auto(KernelGuard.current());
            case "shared" -> SharedMachine.connect();
            default -> null;
        };
    }

    /** The "auto" choice under {@code guard}. */
    public static SocketProvider auto(KernelGuard guard) {
        KernelProvider kernel = KernelVsock.providerWithLoopback(guard);
        return kernel != null ? kernel : loopback();
    }
}
