package io.vsock4j.transport.kernel;

import io.vsock4j.ReadinessCases;
import io.vsock4j.SocketHandle;
import io.vsock4j.SocketProvider;
import io.vsock4j.SocketType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;

/**
 * {@link ReadinessCases} on the kernel's AF_VSOCK (poll(2) for the ready set, an edge-triggered epoll for
 * the listener), over the guest kernel's vsock_loopback at CID 1. Inside the guest only.
 */
@ExtendWith(GuestOnly.class)
public class KernelReadinessGuestCases extends ReadinessCases {
    private final SocketProvider provider = KernelVsock.provider();

    @Override
    protected SocketHandle newSocket() throws IOException {
        return provider.open(SocketType.STREAM);
    }

    @AfterEach
    void closeSockets() throws IOException {
        closeAll();
    }
}
