package io.vsock4j;

import io.vsock4j.core.Machine;
import io.vsock4j.spi.SocketProvider;

/**
 * Where sockets opened without a provider go. The default is a machine of this JVM whose only transport
 * is the Java loopback (CID 1), so vsock code runs anywhere, VM or not, without touching the kernel.
 * Thread-safe.
 */
public final class Vsock {
    private static final Object LOCK = new Object();
    /** Guarded by LOCK. */
    private static SocketProvider defaultProvider;

    private Vsock() {
    }

    /** The provider that {@code VsockSocket.open()} and friends use; created on first call. */
    public static SocketProvider defaultProvider() {
        synchronized (LOCK) {
            if (defaultProvider == null) {
                defaultProvider = Machine.loopback();
            }
            return defaultProvider;
        }
    }

    /**
     * A provider by name: "java" (the Java loopback), "kernel" (the kernel's AF_VSOCK, allowed only in
     * the project's test guest or with -Dvsock4j.kernel.allow=true) or "auto" (the kernel where allowed
     * and it has its own loopback, else the Java loopback). See {@link io.vsock4j.transport.kernel.KernelVsock}.
     */
    public static SocketProvider provider(String name) throws java.io.IOException {
        return io.vsock4j.transport.kernel.KernelVsock.provider(name);
    }

    /**
     * Joins this user's default shared machine: CID 1 and one port space shared by every process of the
     * user that joins it, through a daemon started on first use (see
     * {@link io.vsock4j.transport.shared.SharedMachine}). Each call is a new member; the caller closes it.
     */
    public static Machine sharedMachine() throws java.io.IOException {
        return io.vsock4j.transport.shared.SharedMachine.connect();
    }

    /** Replaces the default provider (the command line does, per its --transport option). */
    public static void setDefaultProvider(SocketProvider provider) {
        synchronized (LOCK) {
            defaultProvider = java.util.Objects.requireNonNull(provider);
        }
    }
}
