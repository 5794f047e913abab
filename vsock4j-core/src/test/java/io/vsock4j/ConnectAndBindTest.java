package io.vsock4j;

import io.vsock4j.core.Machine;
import io.vsock4j.engine.TestWire;
import io.vsock4j.spi.SocketHandle;
import io.vsock4j.transport.loopback.LoopbackTransport;
import org.junit.jupiter.api.Test;

import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Connect and bind: the kernel's error cases, each by its errno. */
class ConnectAndBindTest extends LoopbackFixture {

    @Test
    void connectToAPortNobodyBoundIsResetAtOnce() throws Exception {
        VsockSocket s = track(VsockSocket.open(machine));
        long start = System.nanoTime();
        assertThatThrownBy(() -> s.connect(VsockAddress.local(4444)))
                .isInstanceOf(ConnectException.class).hasMessageStartingWith("ECONNRESET");
        // Reset, not a timeout: well under the 2 s connect timeout.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1500));
    }

    @Test
    void connectToABoundButNotListeningSocketIsReset() throws Exception {
        VsockSocket bound = track(VsockSocket.open(machine));
        bound.bind(VsockAddress.of(VsockAddress.CID_ANY, 4445));
        VsockSocket s = track(VsockSocket.open(machine));
        assertThatThrownBy(() -> s.connect(VsockAddress.local(4445)))
                .isInstanceOf(ConnectException.class).hasMessageContaining("ECONNRESET");
    }

    @Test
    void aFailedConnectMayBeRetried() throws Exception {
        VsockSocket s = track(VsockSocket.open(machine));
        assertThatThrownBy(() -> s.connect(VsockAddress.local(4446))).isInstanceOf(ConnectException.class);
        listen(4446);
        s.connect(VsockAddress.local(4446));
        assertThat(s.isConnected()).isTrue();
        assertThatThrownBy(() -> s.connect(VsockAddress.local(4446)))
                .isInstanceOf(SocketException.class).hasMessageStartingWith("EISCONN");
    }

    @Test
    void aFullAcceptQueueResetsFurtherConnects() throws Exception {
        VsockServerSocket server = track(VsockServerSocket.open(machine));
        server.bind(VsockAddress.of(VsockAddress.CID_ANY, 4447), 2);
        // Linux's sk_acceptq_is_full is "more than backlog": backlog 2 queues three.
        for (int i = 0; i < 3; i++) {
            connect(4447);
        }
        assertThatThrownBy(() -> connect(4447)).isInstanceOf(ConnectException.class).hasMessageContaining("ECONNRESET");
        server.accept();
        connect(4447); // room again
    }

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
    void portAnyPicksPortsAboveTheReservedRange() throws Exception {
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            VsockSocket s = track(VsockSocket.open(machine));
            s.bind(VsockAddress.any());
            int port = s.getLocalAddress().port();
            assertThat(Integer.toUnsignedLong(port)).isGreaterThan(1023);
            ports.add(port);
        }
        assertThat(ports).hasSize(50);
    }

    @Test
    void theSamePortTwiceIsEADDRINUSEWhateverTheCid() throws Exception {
        VsockSocket a = track(VsockSocket.open(machine));
        a.bind(VsockAddress.of(VsockAddress.CID_ANY, 6000));
        VsockSocket b = track(VsockSocket.open(machine));
        assertThatThrownBy(() -> b.bind(VsockAddress.of(VsockAddress.CID_ANY, 6000)))
                .isInstanceOf(BindException.class).hasMessageStartingWith("EADDRINUSE");
        assertThatThrownBy(() -> b.bind(VsockAddress.local(6000)))
                .isInstanceOf(BindException.class).hasMessageStartingWith("EADDRINUSE");
        VsockSocket c = track(VsockSocket.open(machine));
        c.bind(VsockAddress.local(6001));
        assertThatThrownBy(() -> b.bind(VsockAddress.of(VsockAddress.CID_ANY, 6001)))
                .isInstanceOf(BindException.class).hasMessageStartingWith("EADDRINUSE");
    }

    @Test
    void bindingTwiceIsEINVAL() throws Exception {
        VsockSocket a = track(VsockSocket.open(machine));
        a.bind(VsockAddress.any());
        assertThatThrownBy(() -> a.bind(VsockAddress.any()))
                .isInstanceOf(SocketException.class).hasMessageStartingWith("EINVAL");
    }

    @Test
    void bindingACidTheMachineDoesNotOwnIsEADDRNOTAVAIL() throws Exception {
        for (int cid : new int[] {VsockAddress.CID_HOST, 3, 42, VsockAddress.CID_HYPERVISOR}) {
            VsockSocket s = track(VsockSocket.open(machine));
            assertThatThrownBy(() -> s.bind(VsockAddress.of(cid, 7000)))
                    .as("CID %d", cid).isInstanceOf(BindException.class).hasMessageStartingWith("EADDRNOTAVAIL");
        }
        VsockSocket local = track(VsockSocket.open(machine));
        local.bind(VsockAddress.local(7000));
        assertThat(local.getLocalAddress()).isEqualTo(VsockAddress.local(7000));
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

    @Test
    void closeFreesThePortForTheNextBind() throws Exception {
        VsockServerSocket server = listen(6100);
        VsockSocket client = connect(6100);
        VsockSocket accepted = track(server.accept());
        client.close();
        accepted.close();
        server.close();
        assertNoSocketsLeft();
        VsockServerSocket again = listen(6100);
        assertThat(again.getLocalAddress().port()).isEqualTo(6100);
    }

    @Test
    void acceptTimesOutAndTheListenerStaysUsable() throws Exception {
        VsockServerSocket server = listen(6300);
        server.setSoTimeout(100);
        assertThatThrownBy(server::accept).isInstanceOf(SocketTimeoutException.class).hasMessageStartingWith("EAGAIN");
        connect(6300);
        assertThat(track(server.accept()).isConnected()).isTrue();
    }

    @Test
    void listenNeedsABoundSocket() throws Exception {
        SocketHandle h = track(machine.open(SocketType.STREAM));
        assertThatThrownBy(() -> h.listen(5)).isInstanceOf(SocketException.class).hasMessageStartingWith("EINVAL");
    }

    @Test
    void operationsBeforeConnectAreENOTCONN() throws Exception {
        VsockSocket s = track(VsockSocket.open(machine));
        assertThatThrownBy(() -> s.getOutputStream().write(1)).hasMessageStartingWith("ENOTCONN");
        assertThatThrownBy(() -> s.getInputStream().read()).hasMessageStartingWith("ENOTCONN");
        assertThatThrownBy(s::shutdownOutput).hasMessageStartingWith("ENOTCONN");
    }

    @Test
    void acceptedSocketsInheritBufferOptionsAndSeeTheirPeer() throws Exception {
        VsockServerSocket server = track(VsockServerSocket.open(machine));
        server.setOption(VsockOptions.BUFFER_SIZE, 64L * 1024);
        server.bind(VsockAddress.of(VsockAddress.CID_ANY, 6200));
        VsockSocket client = connect(6200);
        VsockSocket accepted = track(server.accept());
        assertThat(accepted.getOption(VsockOptions.BUFFER_SIZE)).isEqualTo(64L * 1024);
        assertThat(accepted.getRemoteAddress()).isEqualTo(client.getLocalAddress());
        assertThat(accepted.getLocalAddress()).isEqualTo(VsockAddress.local(6200));
    }
}
