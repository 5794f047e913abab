package io.vsock4j;

import java.io.IOException;

/**
 * Something that can open vsock sockets: a vsock4j machine (the Java engine over its transports) or the
 * kernel's AF_VSOCK. The public socket classes take one; {@link Vsock} names the default and finds the
 * others by name through {@link Factory}.
 *
 * <p>This interface and {@link SocketHandle} are what a whole-socket implementation provides; a packet
 * transport for the Java engine implements {@code io.vsock4j.spi.Transport} instead.
 */
public interface SocketProvider {
    /** socket(AF_VSOCK, type, 0). */
    SocketHandle open(SocketType type) throws IOException;

    /** What IOCTL_VM_SOCKETS_GET_LOCAL_CID answers here, or {@link VsockAddress#CID_ANY}. */
    int localCid();

    /** A short name for messages and {@code vsock info}. */
    String name();

    /**
     * Makes providers by name for {@link Vsock#provider(String)}, found with {@link java.util.ServiceLoader}
     * (vsock4j's own, {@code io.vsock4j.machines.StandardProviders}, knows "java", "kernel", "auto" and
     * "shared"). The API knows no implementation; this is how it reaches them.
     */
    interface Factory {
        /** The names this factory answers to, for messages. */
        java.util.List<String> names();

        /**
         * A new provider for {@code name}, or null when this factory does not know the name.
         *
         * @throws IOException when the provider exists but cannot be had here (the kernel guard refuses,
         *                     the shared machine's daemon cannot start), saying why
         */
        SocketProvider open(String name) throws IOException;
    }
}
