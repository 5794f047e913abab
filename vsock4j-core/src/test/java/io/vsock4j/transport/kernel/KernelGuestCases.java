package io.vsock4j.transport.kernel;

import io.vsock4j.Vsock;
import org.junit.jupiter.api.extension.ExtendWith;

import io.vsock4j.VsockAddress;
import io.vsock4j.spi.TransportRole;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/** Detection and provider choice in the guest, which has the loopback transport and nothing else. */
@ExtendWith(GuestOnly.class)
public class KernelGuestCases {
    @Test
    void theGuestKernelHasOnlyTheLoopbackRole() {
        KernelVsock.Detection d = KernelVsock.detect();
        assertThat(d.roles()).containsExactly(TransportRole.LOCAL);
        assertThat(d.localCid()).isIn(VsockAddress.CID_ANY, VsockAddress.CID_LOCAL);
    }

    @Test
    void autoPicksTheKernelWhereItHasALoopback() throws IOException {
        assertThat(Vsock.provider("auto")).isInstanceOf(KernelProvider.class);
        assertThat(Vsock.provider("kernel")).isInstanceOf(KernelProvider.class);
        assertThat(Vsock.provider("java").name()).isEqualTo("loopback");
    }

    @Test
    void theGuardAllowsTheGuest() {
        assertThat(KernelGuard.current().inGuest()).isTrue();
        assertThat(KernelGuard.current().allowed()).isTrue();
    }
}
