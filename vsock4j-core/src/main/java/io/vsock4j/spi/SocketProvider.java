package io.vsock4j.spi;

import io.vsock4j.SocketType;

import java.io.IOException;

/**
 * Something that can open vsock sockets: a vsock4j machine (the Java engine over its transports) or the
 * kernel's AF_VSOCK. The public socket classes take one; {@code io.vsock4j.Vsock} names the default.
 */
public interface SocketProvider {
    /** socket(AF_VSOCK, type, 0). */
    SocketHandle open(SocketType type) throws IOException;

    /** What IOCTL_VM_SOCKETS_GET_LOCAL_CID answers here, or {@link io.vsock4j.VsockAddress#CID_ANY}. */
    int localCid();

    /** A short name for messages and {@code vsock info}. */
    String name();
}
