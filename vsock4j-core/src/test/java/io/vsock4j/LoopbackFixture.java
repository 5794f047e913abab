package io.vsock4j;

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
 * A fresh Java-loopback machine per test, closed afterwards, with helpers to start a peer on a virtual
 * thread. After each test every socket is closed and the machine must have no bound or connected
 * socket left (no leaks), and its threads are gone.
 */
abstract class LoopbackFixture {
    protected Machine machine;
    private final List<Closeable> toClose = new ArrayList<>();
    protected ExecutorService peers;

    @BeforeEach
    void startMachine() {
        machine = Machine.loopback();
        peers = Executors.newVirtualThreadPerTaskExecutor();
    }

    @AfterEach
    void stopMachine() throws Exception {
        for (Closeable c : toClose.reversed()) {
            c.close();
        }
        peers.shutdownNow();
        machine.close();
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

    /** Waits (bounded) until the machine has forgotten every socket. */
    protected void assertNoSocketsLeft() throws InterruptedException {
        for (int i = 0; i < 200 && (machine.boundCount() > 0 || machine.connectionCount() > 0); i++) {
            Thread.sleep(10);
        }
        assertThat(machine.boundCount()).as("bound sockets left").isZero();
        assertThat(machine.connectionCount()).as("connections left").isZero();
    }
}
