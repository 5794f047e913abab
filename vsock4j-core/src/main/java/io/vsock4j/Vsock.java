package io.vsock4j;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.ServiceLoader;

/**
 * Where sockets opened without a provider go, and providers by name. The default is a machine of this
 * JVM whose only transport is the Java loopback (CID 1), so vsock code runs anywhere, VM or not, without
 * touching the kernel. Providers come from {@link SocketProvider.Factory} services, so the API depends on
 * no implementation. Thread-safe.
 */
public final class Vsock {
    private static final Object LOCK = new Object();
    /** Guarded by LOCK. */
    private static SocketProvider defaultProvider;

    private Vsock() {
    }

    /** The provider that {@code VsockSocket.open()} and friends use; created on first call ("java"). */
    public static SocketProvider defaultProvider() {
        synchronized (LOCK) {
            if (defaultProvider == null) {
                try {
                    defaultProvider = provider("java");
                } catch (IOException e) {
                    throw new IllegalStateException("the Java loopback machine could not be made", e);
                }
            }
            return defaultProvider;
        }
    }

    /**
     * A new provider by name: "java" (a machine with the Java loopback), "kernel" (the kernel's AF_VSOCK,
     * allowed only in the project's test guest or with -Dvsock4j.kernel.allow=true), "auto" (the kernel
     * where allowed and it has its own loopback, else the Java loopback) or "shared" (this user's shared
     * machine: CID 1 and one port space for every process that joins, and the host, CID 2, of the guests
     * of any {@code vsock device} on it; close it to leave).
     *
     * @throws IllegalArgumentException for a name no factory knows
     * @throws IOException              when the provider cannot be had here, saying why
     */
    public static SocketProvider provider(String name) throws IOException {
        String wanted = name.trim().toLowerCase(Locale.ROOT);
        List<String> known = new ArrayList<>();
        for (SocketProvider.Factory factory : ServiceLoader.load(SocketProvider.Factory.class, Vsock.class.getClassLoader())) {
            SocketProvider p = factory.open(wanted);
            if (p != null) {
                return p;
            }
            known.addAll(factory.names());
        }
        throw new IllegalArgumentException("unknown vsock provider '" + name + "' (want one of " + String.join(", ", known) + ")");
    }

    /**
     * Joins this user's default shared machine ({@code provider("shared")}): other vsock4j processes of
     * the user meet this one on CID 1, and the guests of a {@code vsock device} on the machine are reached
     * at their CIDs, as from any process of a Linux host. Close it to leave.
     */
    public static SocketProvider sharedMachine() throws IOException {
        return provider("shared");
    }

    /** Replaces the default provider (the command line does, per its --transport option). */
    public static void setDefaultProvider(SocketProvider provider) {
        synchronized (LOCK) {
            defaultProvider = Objects.requireNonNull(provider);
        }
    }
}
