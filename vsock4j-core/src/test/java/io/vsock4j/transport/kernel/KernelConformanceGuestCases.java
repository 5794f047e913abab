package io.vsock4j.transport.kernel;

import org.junit.jupiter.api.extension.ExtendWith;

import io.vsock4j.conformance.ConformanceCases;
import io.vsock4j.spi.SocketProvider;

/**
 * The conformance cases on the kernel's AF_VSOCK over its loopback (CID 1). Runs only inside the QEMU
 * guest, through {@link GuestMain}; the name keeps surefire from picking it up on the host.
 */
@ExtendWith(GuestOnly.class)
public class KernelConformanceGuestCases extends ConformanceCases {
    @Override
    protected SocketProvider openProvider() {
        return KernelVsock.provider();
    }

    /** The guest's Linux 6.1 cannot peek SEQPACKET messages; newer kernels can (the case accepts both). */
    @Override
    protected boolean mayRefuseSeqpacketPeek() {
        return true;
    }

    @Override
    protected void closeProvider(SocketProvider p) {
        // Kernel sockets are closed by the fixture; the provider holds nothing.
    }
}
