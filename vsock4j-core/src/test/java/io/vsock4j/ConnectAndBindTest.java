package io.vsock4j;

import io.vsock4j.core.Machine;
import io.vsock4j.engine.TestWire;
import io.vsock4j.transport.loopback.LoopbackTransport;
import org.junit.jupiter.api.Test;

import java.net.BindException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Connect and bind where the answer depends on the Java machine's make-up: a silent transport (connect
 * timeout), a CID no transport reaches (ENODEV), the reserved-port rule set by its builder. The errno
 * cases every transport shares are the conformance suite's (vsock4j-conformance).
 */
class ConnectAndBindTest extends LoopbackFixture {

    @Test
    void connectTimesOutAfterTheConfiguredTimeWhenThePeerNeverAnswers() throws Exception {
        // A machine whose G2H transport swallows every packet: CID 2 leads into silence.
        try (Machine silent = Machine.builder().name("silent")
                .transport(new LoopbackTransport()).transport(new TestWire(3)).build()) {
            VsockSocket s = track(VsockSocket.open(silent));
            s.setOption(VsockOptions.CONNECT_TIMEOUT, Duration.ofMillis(300));
            long start = System.nanoTime();
            assertThatThrownBy(() -> s.connect(VsockAddress.of(VsockAddress.CID_HOST, 80)))
                    .isInstanceOf(SocketTimeoutException.class).hasMessageStartingWith("ETIMEDOUT");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
            // An explicit timeout wins over the option.
            VsockSocket t = track(VsockSocket.open(silent));
            assertThatThrownBy(() -> t.connect(VsockAddress.of(VsockAddress.CID_HOST, 80), 100))
                    .isInstanceOf(SocketTimeoutException.class);
        }
    }

    @Test
    void connectToACidWithNoTransportIsENODEV() throws Exception {
        VsockSocket s = track(VsockSocket.open(machine));
        assertThatThrownBy(() -> s.connect(VsockAddress.of(7, 1234)))
                .isInstanceOf(NoRouteToHostException.class).hasMessageStartingWith("ENODEV");
    }

    @Test
    void reservedPortsFollowTheKernelsCapabilityRule() throws Exception {
        try (Machine unprivileged = Machine.builder().transport(new LoopbackTransport()).mayBindReservedPorts(false).build();
             Machine privileged = Machine.builder().transport(new LoopbackTransport()).mayBindReservedPorts(true).build()) {
            SocketHandle s = track(unprivileged.open(SocketType.STREAM));
            assertThatThrownBy(() -> s.bind(VsockAddress.of(VsockAddress.CID_ANY, 1023)))
                    .isInstanceOf(BindException.class).hasMessageStartingWith("EACCES");
            s.bind(VsockAddress.of(VsockAddress.CID_ANY, 1024));
            SocketHandle p = track(privileged.open(SocketType.STREAM));
            p.bind(VsockAddress.of(VsockAddress.CID_ANY, 80));
            assertThat(p.localAddress().port()).isEqualTo(80);
        }
    }

}
