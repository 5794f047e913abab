package io.vsock4j;

import io.vsock4j.core.Machine;
import io.vsock4j.engine.TestWire;
import io.vsock4j.machines.Machines;
import io.vsock4j.transport.loopback.LoopbackTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link ReadinessCases} on the Java engine: a fresh loopback machine per test, which must have no bound
 * socket and no connection left once the test's sockets are closed (waited for, bounded: a close is
 * complete when the peer's RST is in). Plus what needs the engine's make-up: a connect into silence.
 */
class ReadinessTest extends ReadinessCases {
    private static final long LEAK_WAIT_NANOS = 10_000_000_000L;

    private Machine machine;

    @BeforeEach
    void startMachine() {
        machine = Machines.loopback();
    }

    @Override
    protected SocketHandle newSocket() throws IOException {
        return machine.open(SocketType.STREAM);
    }

    @AfterEach
    void stopMachine() throws Exception {
        try {
            closeAll();
            long deadline = System.nanoTime() + LEAK_WAIT_NANOS;
            while ((machine.boundCount() > 0 || machine.connectionCount() > 0) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(machine.boundCount()).as("bound sockets left after the test").isZero();
            assertThat(machine.connectionCount()).as("connections left after the test").isZero();
        } finally {
            machine.close();
        }
    }

    /**
     * A transport reset takes the connection off the machine. An event loop that waits for its socket to
     * become ready must still be woken and then read the reset, as epoll's EPOLLERR does.
     */
    @Test
    void aTransportResetMakesTheSocketReadableAndWritableAndAReadSaysEconnreset() throws Exception {
        Recorder rec = new Recorder();
        SocketHandle[] p = pair(7290, rec, new Recorder(), new Recorder());
        Machine.connectionOf(p[0]).transportReset();
        rec.awaitOps(p[0], ops -> ops == (Readiness.READABLE | Readiness.WRITABLE));
        assertThatThrownBy(() -> p[0].receive(new byte[8], 0, 8, MessageFlags.MSG_DONTWAIT, 0, null))
                .hasMessageStartingWith("ECONNRESET");
        assertThatThrownBy(() -> p[0].send(new byte[8], 0, 8, MessageFlags.MSG_DONTWAIT, 0))
                .hasMessageStartingWith("ECONNRESET");
    }

    @Test
    void aNonBlockingConnectNobodyAnswersEndsWithEtimedoutWhenItsTimeIsUp() throws Exception {
        // A machine whose G2H transport swallows every packet: CID 2 leads into silence.
        try (Machine silent = Machine.builder().name("silent")
                .transport(new LoopbackTransport()).transport(new TestWire(3)).build();
             SocketHandle s = silent.open(SocketType.STREAM)) {
            Recorder rec = new Recorder();
            s.setReadinessListener(rec);
            s.startConnect(VsockAddress.of(VsockAddress.CID_HOST, 80), TimeUnit.MILLISECONDS.toNanos(200));
            assertThat(s.finishConnect()).as("no answer yet").isFalse();
            // The machine's timer ends the attempt and tells the listener.
            rec.awaitOps(s, ops -> ops == Readiness.CONNECTED);
            assertThatThrownBy(s::finishConnect).isInstanceOf(SocketTimeoutException.class)
                    .hasMessageStartingWith("ETIMEDOUT").hasMessageContaining("2:80");
            assertThat(s.isConnected()).isFalse();
            assertThat(s.readyOps()).as("bound and unconnected again").isZero();
        }
    }
}
