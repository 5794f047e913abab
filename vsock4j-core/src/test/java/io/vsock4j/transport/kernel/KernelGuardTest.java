package io.vsock4j.transport.kernel;

import io.vsock4j.Vsock;
import io.vsock4j.machines.Machines;
import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.SocketProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The guard, on the build machine: a VM whose kernel vsock reaches a host that is not ours. Nothing here
 * may connect, listen or send through the kernel; these tests prove the provider refuses before any
 * socket(2) or connect(2) and that "auto" falls back to the Java loopback.
 */
class KernelGuardTest {
    private static final KernelGuard OUTSIDE = KernelGuard.of("BOOT_IMAGE=/vmlinuz root=/dev/vda1 quiet", null);

    @Test
    void theGuardReadsTheKernelCommandLineAndTheProperty() {
        assertThat(OUTSIDE.allowed()).isFalse();
        assertThat(KernelGuard.of("console=ttyS0 vsock4j.guest=1 quiet", null).allowed()).isTrue();
        assertThat(KernelGuard.of("vsock4j.guest=10", null).allowed()).isFalse();
        assertThat(KernelGuard.of("quiet", "true").allowed()).isTrue();
        assertThat(KernelGuard.of("quiet", "yes").allowed()).isFalse();
    }

    @Test
    void thisBuildMachineIsNotTheGuest() throws IOException {
        String cmdline = Files.readString(Path.of("/proc/cmdline"));
        assertThat(cmdline).as("the host tests must not run inside the guest").doesNotContain(KernelGuard.GUEST_MARKER);
        assertThat(System.getProperty(KernelGuard.ALLOW_PROPERTY)).as("never set -D" + KernelGuard.ALLOW_PROPERTY + " on the build machine").isNull();
        assertThat(KernelGuard.current().allowed()).isFalse();
    }

    /**
     * The guest-only classes start ncat, socat and Python vsock peers: each must fail as a whole on this
     * machine however it was selected (a {@code -Dtest=} pattern once ran them here).
     */
    @Test
    void everyGuestOnlyClassRefusesToRunOnThisMachine() {
        for (Class<?> c : GuestMain.CLASSES) {
            ExtendWith ext = c.getAnnotation(ExtendWith.class);
            assertThat(ext).as(c.getSimpleName() + " is guarded").isNotNull();
            assertThat(ext.value()).as(c.getSimpleName() + " is guarded").contains(GuestOnly.class);
        }
        assertThatThrownBy(() -> GuestOnly.require("InteropGuestCases"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("runs only inside the vsock4j QEMU guest")
                .hasMessageContaining(KernelGuard.GUEST_MARKER);
    }

    @Test
    void connectListenAndOpenAreRefusedBeforeAnySystemCall() {
        KernelProvider kernel = KernelVsock.provider(OUTSIDE);
        long sockets = Native.socketCalls();
        long connects = Native.connectCalls();
        assertThatThrownBy(() -> VsockSocket.connect(kernel, VsockAddress.of(VsockAddress.CID_HOST, 1234)))
                .isExactlyInstanceOf(IOException.class)
                .hasMessageContaining("refuses").hasMessageContaining(KernelGuard.GUEST_MARKER)
                .hasMessageContaining(KernelGuard.ALLOW_PROPERTY);
        assertThatThrownBy(() -> VsockServerSocket.bind(kernel, VsockAddress.of(VsockAddress.CID_ANY, 1234)))
                .isExactlyInstanceOf(IOException.class).hasMessageContaining("refuses");
        assertThatThrownBy(() -> kernel.open(SocketType.SEQPACKET)).isExactlyInstanceOf(IOException.class);
        assertThat(Native.socketCalls()).as("socket(2) calls").isEqualTo(sockets);
        assertThat(Native.connectCalls()).as("connect(2) calls").isEqualTo(connects);
    }

    /** The benchmark's bare descriptors (BareVsock) answer to the guest marker alone, not to the property. */
    @Test
    void theBenchmarkFloorRefusesOutsideTheGuestEvenWhenAllowed() {
        long sockets = Native.socketCalls();
        long connects = Native.connectCalls();
        String before = System.getProperty(KernelGuard.ALLOW_PROPERTY);
        System.setProperty(KernelGuard.ALLOW_PROPERTY, "true");
        try {
            assertThatThrownBy(() -> BareVsock.listen(1234, 4096))
                    .isExactlyInstanceOf(IOException.class).hasMessageContaining("refusing before socket(2)")
                    .hasMessageContaining(KernelGuard.GUEST_MARKER);
            assertThatThrownBy(() -> BareVsock.connect(VsockAddress.CID_LOCAL, 1234, 4096))
                    .isExactlyInstanceOf(IOException.class).hasMessageContaining("refusing before socket(2)");
        } finally {
            if (before == null) {
                System.clearProperty(KernelGuard.ALLOW_PROPERTY);
            } else {
                System.setProperty(KernelGuard.ALLOW_PROPERTY, before);
            }
        }
        assertThat(Native.socketCalls()).as("socket(2) calls").isEqualTo(sockets);
        assertThat(Native.connectCalls()).as("connect(2) calls").isEqualTo(connects);
    }

    @Test
    void theKernelChoiceFailsLoudlyAndAutoFallsBackToTheJavaLoopback() throws IOException {
        assertThatThrownBy(() -> Vsock.provider("kernel")).isExactlyInstanceOf(IOException.class).hasMessageContaining("refuses");
        SocketProvider auto = Machines.auto(OUTSIDE);
        assertThat(auto).isInstanceOf(Machine.class);
        ((Machine) auto).close();
        assertThatThrownBy(() -> Vsock.provider("tcp")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void detectionOnlyProbes() {
        long connects = Native.connectCalls();
        KernelVsock.Detection d = KernelVsock.detect();
        assertThat(Native.connectCalls()).isEqualTo(connects);
        assertThat(d.toString()).startsWith("kernel vsock: local CID");
    }
}
