package io.vsock4j.conformance;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSeqpacketServerSocket;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.spi.SocketProvider;
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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A provider under test (the Java loopback or the kernel), sockets closed after each test, peers on
 * virtual threads, and a fresh port per use: the kernel keeps a closed socket's port for a while
 * (close timeout), so tests never reuse one.
 */
public abstract class ProviderFixture {
    private static final AtomicInteger NEXT_PORT = new AtomicInteger(20_000 + (int) (ProcessHandle.current().pid() % 1000) * 20);

    protected SocketProvider provider;
    private final List<Closeable> toClose = new ArrayList<>();
    protected ExecutorService peers;

    /** The provider for one test. */
    protected abstract SocketProvider openProvider() throws IOException;

    /** Releases what {@link #openProvider} made. */
    protected abstract void closeProvider(SocketProvider p) throws Exception;

    @BeforeEach
    void openFixture() throws IOException {
        provider = openProvider();
        peers = Executors.newVirtualThreadPerTaskExecutor();
    }

    @AfterEach
    void closeFixture() throws Exception {
        for (Closeable c : toClose.reversed()) {
            c.close();
        }
        toClose.clear();
        peers.shutdownNow();
        closeProvider(provider);
    }

    protected static int freshPort() {
        return NEXT_PORT.getAndIncrement();
    }

    protected <T extends Closeable> T track(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    protected VsockServerSocket listen(int port) throws IOException {
        return track(VsockServerSocket.bind(provider, VsockAddress.of(VsockAddress.CID_ANY, port)));
    }

    protected VsockSocket connect(int port) throws IOException {
        return track(VsockSocket.connect(provider, VsockAddress.local(port)));
    }

    protected VsockSeqpacketServerSocket listenSeqpacket(int port) throws IOException {
        return track(VsockSeqpacketServerSocket.bind(provider, VsockAddress.of(VsockAddress.CID_ANY, port)));
    }

    protected VsockSeqpacketSocket connectSeqpacket(int port) throws IOException {
        return track(VsockSeqpacketSocket.connect(provider, VsockAddress.local(port)));
    }

    /** A connected stream pair: {client, accepted}. */
    protected VsockSocket[] streamPair() throws IOException {
        int port = freshPort();
        VsockServerSocket server = listen(port);
        VsockSocket client = connect(port);
        VsockSocket accepted = track(server.accept());
        return new VsockSocket[] {client, accepted};
    }

    /** A connected SEQPACKET pair: {client, accepted}. */
    protected VsockSeqpacketSocket[] seqpacketPair() throws IOException {
        int port = freshPort();
        VsockSeqpacketServerSocket server = listenSeqpacket(port);
        VsockSeqpacketSocket client = connectSeqpacket(port);
        VsockSeqpacketSocket accepted = track(server.accept());
        return new VsockSeqpacketSocket[] {client, accepted};
    }

    protected <T> Future<T> peer(Callable<T> task) {
        return peers.submit(task);
    }

    /** Waits (bounded) until {@code t} is parked or blocked: it reached the call under test. */
    protected static void awaitBlocked(Thread t) throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            Thread.State s = t.getState();
            if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING || s == Thread.State.BLOCKED) {
                Thread.sleep(20); // and stays there
                if (t.getState() != Thread.State.RUNNABLE) {
                    return;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError(t + " never blocked");
    }
}
