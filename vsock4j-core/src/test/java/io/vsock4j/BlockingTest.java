package io.vsock4j;

import org.junit.jupiter.api.Test;

import java.net.SocketException;
import java.nio.channels.ClosedByInterruptException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Blocking calls: close from another thread, interruption, virtual threads, no leaked threads. */
class BlockingTest extends LoopbackFixture {

    private VsockSocket[] pair(int port) throws Exception {
        VsockServerSocket server = listen(port);
        VsockSocket client = connect(port);
        return new VsockSocket[] {client, track(server.accept())};
    }

    /** Starts {@code call} on a thread and waits until it is parked inside it. */
    private CompletableFuture<Object> blocked(boolean virtual, ThrowingCall call, Thread[] threadOut) throws Exception {
        CompletableFuture<Object> result = new CompletableFuture<>();
        Runnable body = () -> {
            try {
                result.complete(call.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        };
        Thread t = virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().daemon().start(body);
        threadOut[0] = t;
        for (int i = 0; i < 500 && t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING; i++) {
            Thread.sleep(2);
        }
        assertThat(t.getState()).isIn(Thread.State.WAITING, Thread.State.TIMED_WAITING);
        return result;
    }

    interface ThrowingCall {
        Object call() throws Exception;
    }

    private static Throwable failure(CompletableFuture<Object> f) throws Exception {
        try {
            f.get(5, TimeUnit.SECONDS);
            throw new AssertionError("the blocked call returned normally");
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    @Test
    void closeFromAnotherThreadWakesABlockedRead() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            VsockSocket[] p = pair(virtual ? 9101 : 9100);
            Thread[] t = new Thread[1];
            CompletableFuture<Object> read = blocked(virtual, () -> p[1].getInputStream().read(), t);
            p[1].close();
            assertThat(failure(read)).isInstanceOf(SocketException.class).hasMessage("Socket closed");
        }
    }

    @Test
    void closeWakesABlockedAcceptAndABlockedWrite() throws Exception {
        VsockServerSocket server = listen(9102);
        Thread[] t = new Thread[1];
        CompletableFuture<Object> accept = blocked(true, server::accept, t);
        server.close();
        assertThat(failure(accept)).isInstanceOf(SocketException.class).hasMessage("Socket closed");

        VsockSocket[] p = pair(9103);
        CompletableFuture<Object> write = blocked(true, () -> {
            p[0].getOutputStream().write(new byte[1 << 20]); // four times the peer's buffer
            return null;
        }, t);
        p[0].close();
        assertThat(failure(write)).isInstanceOf(SocketException.class).hasMessage("Socket closed");
    }

    @Test
    void interruptClosesTheSocketAndThrowsClosedByInterrupt() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            VsockSocket[] p = pair(virtual ? 9105 : 9104);
            Thread[] t = new Thread[1];
            CompletableFuture<Object> read = blocked(virtual, () -> p[1].getInputStream().read(), t);
            t[0].interrupt();
            assertThat(failure(read)).isInstanceOf(ClosedByInterruptException.class);
            assertThat(p[1].isClosed()).isTrue();
            // The peer sees the close: EOF.
            assertThat(p[0].getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void interruptWakesABlockedConnectAndAccept() throws Exception {
        VsockServerSocket server = listen(9106);
        Thread[] t = new Thread[1];
        CompletableFuture<Object> accept = blocked(true, server::accept, t);
        t[0].interrupt();
        assertThat(failure(accept)).isInstanceOf(ClosedByInterruptException.class);
        assertThat(server.isClosed()).isTrue();
    }

    @Test
    void thousandsOfVirtualThreadsBlockedInReadDoNotStopTheMachine() throws Exception {
        VsockServerSocket server = track(VsockServerSocket.open(machine));
        server.bind(VsockAddress.of(VsockAddress.CID_ANY, 9107), 4096);
        int n = 2000;
        List<VsockSocket> clients = new ArrayList<>();
        List<Future<Integer>> readers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            VsockSocket c = connect(9107);
            clients.add(c);
            VsockSocket a = track(server.accept());
            readers.add(peer(() -> a.getInputStream().read()));
        }
        // All parked; a new connection still works end to end.
        VsockSocket fresh = connect(9107);
        VsockSocket freshAccepted = track(server.accept());
        fresh.getOutputStream().write(5);
        assertThat(freshAccepted.getInputStream().read()).isEqualTo(5);
        for (int i = 0; i < n; i++) {
            clients.get(i).getOutputStream().write(i & 0xFF);
        }
        for (int i = 0; i < n; i++) {
            assertThat(readers.get(i).get(10, TimeUnit.SECONDS)).isEqualTo(i & 0xFF);
        }
    }

    @Test
    void closingTheMachineLeavesNoThreadBehind() throws Exception {
        Set<String> before = vsockThreads();
        io.vsock4j.core.Machine m = io.vsock4j.core.Machine.loopback();
        VsockServerSocket server = VsockServerSocket.bind(m, VsockAddress.of(VsockAddress.CID_ANY, 9108));
        VsockSocket c = VsockSocket.connect(m, VsockAddress.local(9108));
        VsockSocket a = server.accept();
        c.getOutputStream().write(1); // unread at the peer, so the peer does not answer the close with RST
        c.close(); // starts the close timer thread, waiting for the peer
        assertThat(vsockThreads()).hasSizeGreaterThan(before.size());
        a.close();
        server.close();
        m.close();
        for (int i = 0; i < 200 && !vsockThreads().equals(before); i++) {
            Thread.sleep(10);
        }
        assertThat(vsockThreads()).isEqualTo(before);
        assertThatThrownBy(() -> m.open(SocketType.STREAM)).hasMessageContaining("closed");
    }

    private static Set<String> vsockThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(t -> t.getName() + "#" + t.threadId())
                .filter(name -> name.startsWith("vsock4j"))
                .collect(Collectors.toSet());
    }
}
