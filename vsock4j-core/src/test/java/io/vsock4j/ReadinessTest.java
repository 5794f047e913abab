package io.vsock4j;

import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ReadinessCases} on the Java engine: a fresh loopback machine per test, which must have no bound
 * socket and no connection left once the test's sockets are closed (waited for, bounded: a close is
 * complete when the peer's RST is in).
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
}
