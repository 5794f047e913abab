package io.vsock4j;

import io.vsock4j.machines.Machines;
import io.vsock4j.core.Machine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fresh Java-loopback machine per test, with helpers to start a peer on a virtual thread. After each
 * test the peers are stopped, every tracked socket is closed, and the machine must then have no bound
 * socket and no connection left (waited for: a close completes when the peer's RST is in), else the
 * test fails as leaking. JUnit's thread.
 */
abstract class LoopbackFixture {
    /** How long closed connections may take to leave the machine: more than the engine's close timeout. */
    private static final long LEAK_WAIT_MILLIS = 10_000;

    protected Machine machine;
    private final List<Closeable> toClose = new ArrayList<>();
    protected ExecutorService peers;

    @BeforeEach
    void startMachine() {
        machine = Machines.loopback();
        peers = Executors.newVirtualThreadPerTaskExecutor();
    }

    @AfterEach
    void stopMachine() throws Exception {
        try {
            peers.shutdownNow();
            for (Closeable c : toClose.reversed()) {
                c.close();
            }
            toClose.clear();
            assertNoSocketsLeft();
        } finally {
            machine.close();
        }
    }

    protected <T extends Closeable> T track(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    protected VsockServerSocket listen(int port) throws IOException {
        return track(VsockServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, port)));
    }

    protected VsockSocket connect(int port) throws IOException {
        return track(VsockSocket.connect(machine, VsockAddress.local(port)));
    }

    protected <T> Future<T> peer(Callable<T> task) {
        return peers.submit(task);
    }

    /** Waits (bounded) until the machine has forgotten every socket, then asserts it. */
    protected void assertNoSocketsLeft() throws InterruptedException {
        long deadline = System.nanoTime() + LEAK_WAIT_MILLIS * 1_000_000;
        while ((machine.boundCount() > 0 || machine.connectionCount() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(machine.boundCount()).as("bound sockets left after the test").isZero();
        assertThat(machine.connectionCount()).as("connections left after the test").isZero();
    }
}
