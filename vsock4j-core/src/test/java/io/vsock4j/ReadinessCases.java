package io.vsock4j;

import io.vsock4j.testing.Trials;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The non-blocking readiness API of {@link SocketHandle} (io.vsock4j.Readiness), written once for every
 * provider that has it: what {@link SocketHandle#readyOps()} reports through a connection's life, that
 * the listener is told of every change a loop must see, and the non-blocking connect and accept.
 * Everything is driven from the test thread with MSG_DONTWAIT calls, as an event loop would; waits are
 * for a listener call and then the state, never a fixed sleep. {@code ReadinessTest} runs it on the Java
 * loopback, {@code KernelReadinessGuestCases} on the kernel inside the QEMU guest. JUnit's thread.
 */
public abstract class ReadinessCases {
    private static final int BUFFER_BYTES = 256 * 1024;

    private SplittableRandom random;
    private final List<SocketHandle> opened = new ArrayList<>();

    /** A new unbound STREAM socket of the provider under test. */
    protected abstract SocketHandle newSocket() throws IOException;

    @BeforeEach
    void seed() {
        long seed = Trials.seed();
        System.out.println(getClass().getSimpleName() + " seed " + seed + " (-D" + Trials.SEED_PROPERTY + "=N to replay)");
        random = new SplittableRandom(seed);
    }

    /** Closes every socket the test opened or accepted; the subclass calls it after each test. */
    protected void closeAll() throws IOException {
        for (SocketHandle s : opened.reversed()) {
            s.close();
        }
        opened.clear();
    }

    private SocketHandle track(SocketHandle s) {
        opened.add(s);
        return s;
    }

    /** A listener that counts its calls and lets a test wait for the next one. */
    protected static final class Recorder implements Readiness.Listener {
        final AtomicInteger calls = new AtomicInteger();
        final Semaphore told = new Semaphore(0);

        @Override
        public void readinessChanged() {
            calls.incrementAndGet();
            told.release();
        }

        /** Waits, a listener call at a time, until {@code handle}'s ready set satisfies {@code wanted}. */
        public int awaitOps(SocketHandle handle, IntPredicate wanted) throws InterruptedException {
            while (true) {
                told.drainPermits();
                int ops = handle.readyOps();
                if (wanted.test(ops)) {
                    return ops;
                }
                assertThat(told.tryAcquire(10, TimeUnit.SECONDS))
                        .as("listener told while waiting; ready set stuck at " + Readiness.toString(ops)).isTrue();
            }
        }

        /**
         * Waits until the listener has been called more than {@code n} times in all. The ready set can show
         * a change before its listener call arrives: the kernel's sockets are told by a poller thread.
         */
        public void awaitCallsAbove(int n, String what) throws InterruptedException {
            while (calls.get() <= n) {
                assertThat(told.tryAcquire(10, TimeUnit.SECONDS)).as(what + " within 10 s").isTrue();
            }
        }
    }

    private SocketHandle open() throws IOException {
        return track(newSocket());
    }

    private SocketHandle listening(int port, Recorder recorder) throws IOException {
        SocketHandle server = open();
        server.bind(VsockAddress.of(VsockAddress.CID_ANY, port));
        server.listen(16);
        server.setReadinessListener(recorder);
        return server;
    }

    /** [client, accepted], connected without a blocking call, each with its own recorder. */
    protected SocketHandle[] pair(int port, Recorder clientRec, Recorder serverRec, Recorder acceptedRec) throws Exception {
        SocketHandle server = listening(port, serverRec);
        assertThat(server.readyOps()).isZero();
        SocketHandle client = open();
        client.setReadinessListener(clientRec);
        client.startConnect(VsockAddress.local(port), 0);
        clientRec.awaitOps(client, ops -> (ops & Readiness.CONNECTED) != 0);
        assertThat(client.finishConnect()).isTrue();
        assertThat(client.isConnected()).isTrue();
        serverRec.awaitOps(server, ops -> ops == Readiness.ACCEPTABLE);
        SocketHandle accepted = track(server.tryAccept());
        assertThat(accepted).isNotNull();
        assertThat(server.tryAccept()).as("one connection queued, one taken").isNull();
        assertThat(server.readyOps()).isZero();
        accepted.setReadinessListener(acceptedRec);
        return new SocketHandle[] {client, accepted};
    }

    @Test
    public void aNonBlockingConnectReportsConnectedThenTheSocketIsWritableAndNotReadable() throws Exception {
        Recorder clientRec = new Recorder();
        Recorder serverRec = new Recorder();
        SocketHandle[] p = pair(7201, clientRec, serverRec, new Recorder());
        clientRec.awaitCallsAbove(0, "client told of its connect");
        serverRec.awaitCallsAbove(0, "listener told of the REQUEST");
        assertThat(p[0].readyOps()).isEqualTo(Readiness.WRITABLE);
        assertThat(p[1].readyOps()).isEqualTo(Readiness.WRITABLE);
        assertThat(p[0].finishConnect()).as("asking again once connected").isTrue();
    }

    @Test
    public void aConnectNobodyAnswersReportsConnectedAndFinishThrowsEconnresetLeavingTheSocketReusable() throws Exception {
        Recorder rec = new Recorder();
        SocketHandle client = open();
        client.setReadinessListener(rec);
        client.startConnect(VsockAddress.local(7202), 0);
        rec.awaitOps(client, ops -> ops == Readiness.CONNECTED);
        assertThatThrownBy(client::finishConnect).isInstanceOf(ConnectException.class)
                .hasMessageStartingWith("ECONNRESET").hasMessageContaining("1:7202");
        assertThat(client.isConnected()).isFalse();
        assertThatThrownBy(client::finishConnect).hasMessageStartingWith("ENOTCONN");
        // As after a failed blocking connect: bound, and free to try again, now with a listener there.
        SocketHandle server = listening(7202, new Recorder());
        client.startConnect(VsockAddress.local(7202), 0);
        rec.awaitOps(client, ops -> ops == Readiness.CONNECTED);
        assertThat(client.finishConnect()).isTrue();
        track(server.tryAccept());
    }

    @Test
    public void aSecondConnectWhileOneIsInProgressOrDoneIsRefusedAsTheKernelDoes() throws Exception {
        Recorder rec = new Recorder();
        SocketHandle[] p = pair(7203, rec, new Recorder(), new Recorder());
        assertThatThrownBy(() -> p[0].startConnect(VsockAddress.local(7203), 0)).hasMessageStartingWith("EISCONN");
        SocketHandle unconnected = open();
        assertThatThrownBy(unconnected::finishConnect).hasMessageStartingWith("ENOTCONN");
    }

    @Test
    public void dataTurnsReadableOnAndDrainingTurnsItOffWithTheBytesIntact() throws Exception {
        Recorder readerRec = new Recorder();
        SocketHandle[] p = pair(7204, new Recorder(), new Recorder(), readerRec);
        byte[] sent = new byte[1 + random.nextInt(64 * 1024)];
        random.nextBytes(sent);
        assertThat(p[0].send(ByteBuffer.wrap(sent), MessageFlags.MSG_DONTWAIT, 0)).isEqualTo(sent.length);
        readerRec.awaitOps(p[1], ops -> (ops & Readiness.READABLE) != 0);
        ByteBuffer got = ByteBuffer.allocateDirect(sent.length + 10);
        while (got.position() < sent.length) {
            int n = p[1].receive(got, MessageFlags.MSG_DONTWAIT, 0);
            assertThat(n).isPositive();
        }
        assertThat(p[1].receive(got, MessageFlags.MSG_DONTWAIT, 0)).as("nothing left, no EOF").isZero();
        assertThat(p[1].readyOps() & Readiness.READABLE).as("drained").isZero();
        byte[] copy = new byte[sent.length];
        got.flip().get(copy);
        assertThat(copy).isEqualTo(sent);
    }

    /** A direct buffer's bytes from its position to its limit, and the position moved by what went. */
    @Test
    public void directBuffersAreSentAndReceivedFromTheirPositionsWithTheBytesIntact() throws Exception {
        SocketHandle[] p = pair(7219, new Recorder(), new Recorder(), new Recorder());
        byte[] sent = new byte[1 + random.nextInt(100 * 1024)];
        random.nextBytes(sent);
        int skip = random.nextInt(100);
        ByteBuffer out = ByteBuffer.allocateDirect(skip + sent.length + 7);
        out.position(skip);
        out.put(sent).flip().position(skip);
        while (out.hasRemaining()) {
            assertThat(p[0].send(out, 0, 0)).isPositive();
        }
        assertThat(out.position()).isEqualTo(skip + sent.length);
        ByteBuffer in = ByteBuffer.allocateDirect(skip + sent.length);
        in.position(skip);
        while (in.hasRemaining()) {
            assertThat(p[1].receive(in, 0, 0)).isPositive();
        }
        byte[] got = new byte[sent.length];
        in.flip().position(skip);
        in.get(got);
        assertThat(got).isEqualTo(sent);
    }

    @Test
    public void aFullCreditWindowClearsWritableAndTheReadersCreditUpdateSetsItAgain() throws Exception {
        Recorder writerRec = new Recorder();
        Recorder readerRec = new Recorder();
        SocketHandle[] p = pair(7205, writerRec, new Recorder(), readerRec);
        byte[] chunk = new byte[1 + random.nextInt(48 * 1024)];
        random.nextBytes(chunk);
        long sent = 0;
        int n;
        while ((n = p[0].send(chunk, 0, chunk.length, MessageFlags.MSG_DONTWAIT, 0)) > 0) {
            sent += n;
        }
        assertThat(sent).as("the peer's whole buffer, no more").isEqualTo(BUFFER_BYTES);
        assertThat(p[0].readyOps() & Readiness.WRITABLE).as("no credit left").isZero();
        int before = writerRec.calls.get();
        // The reader drains; its CREDIT_UPDATE comes back to the writer, which is told.
        byte[] sink = new byte[1 + random.nextInt(64 * 1024)];
        long read = 0;
        while (read < sent) {
            readerRec.awaitOps(p[1], ops -> (ops & Readiness.READABLE) != 0);
            int got;
            while ((got = p[1].receive(sink, 0, sink.length, MessageFlags.MSG_DONTWAIT, 0, null)) > 0) {
                read += got;
            }
        }
        writerRec.awaitOps(p[0], ops -> (ops & Readiness.WRITABLE) != 0);
        writerRec.awaitCallsAbove(before, "the writer was told of the credit");
        assertThat(p[0].send(chunk, 0, chunk.length, MessageFlags.MSG_DONTWAIT, 0)).isPositive();
    }

    @Test
    public void thePeersShutdownOfSendingMakesTheReaderReadableWithEofAndKeepsItWritable() throws Exception {
        Recorder readerRec = new Recorder();
        SocketHandle[] p = pair(7206, new Recorder(), new Recorder(), readerRec);
        p[0].send(new byte[] {1, 2, 3}, 0, 3, 0, 0);
        p[0].shutdown(MessageFlags.SHUTDOWN_SEND);
        readerRec.awaitOps(p[1], ops -> (ops & Readiness.READABLE) != 0);
        byte[] buf = new byte[8];
        assertThat(p[1].receive(buf, 0, 8, MessageFlags.MSG_DONTWAIT, 0, null)).isEqualTo(3);
        assertThat(p[1].readyOps()).as("EOF is readable; the other direction is open")
                .isEqualTo(Readiness.READABLE | Readiness.WRITABLE);
        assertThat(p[1].receive(buf, 0, 8, MessageFlags.MSG_DONTWAIT, 0, null)).isEqualTo(-1);
        // Half-closed the other way too: the reader still sends, the first side still reads.
        assertThat(p[1].send(new byte[] {9}, 0, 1, MessageFlags.MSG_DONTWAIT, 0)).isEqualTo(1);
        assertThat(p[0].receive(buf, 0, 8, 0, 0, null)).isEqualTo(1);
    }

    @Test
    public void thePeersCloseIsReadableAndWritableAndTheCallsReportIt() throws Exception {
        Recorder rec = new Recorder();
        SocketHandle[] p = pair(7207, rec, new Recorder(), new Recorder());
        p[1].close();
        int ops = rec.awaitOps(p[0], o -> (o & Readiness.READABLE) != 0);
        assertThat(ops).isEqualTo(Readiness.READABLE | Readiness.WRITABLE);
        assertThat(p[0].receive(new byte[4], 0, 4, MessageFlags.MSG_DONTWAIT, 0, null)).isEqualTo(-1);
        assertThatThrownBy(() -> p[0].send(new byte[4], 0, 4, MessageFlags.MSG_DONTWAIT, 0))
                .isInstanceOf(SocketException.class).hasMessageStartingWith("EPIPE");
    }

    @Test
    public void aClosedSocketIsReadableAndWritableAndTheListenerIsTold() throws Exception {
        Recorder rec = new Recorder();
        SocketHandle[] p = pair(7208, rec, new Recorder(), new Recorder());
        int before = rec.calls.get();
        p[0].close();
        assertThat(rec.calls.get()).isGreaterThan(before);
        assertThat(p[0].readyOps()).isEqualTo(Readiness.READABLE | Readiness.WRITABLE);
        assertThatThrownBy(() -> p[0].receive(new byte[1], 0, 1, MessageFlags.MSG_DONTWAIT, 0, null))
                .hasMessageContaining("Socket closed");
    }

    @Test
    public void manyConnectsQueueOnTheListenerAndEachIsAcceptedWithoutWaiting() throws Exception {
        Recorder serverRec = new Recorder();
        SocketHandle server = listening(7209, serverRec);
        int count = 2 + random.nextInt(10);
        SocketHandle[] clients = new SocketHandle[count];
        for (int i = 0; i < count; i++) {
            clients[i] = open();
            clients[i].startConnect(VsockAddress.local(7209), 0);
        }
        int accepted = 0;
        while (accepted < count) {
            serverRec.awaitOps(server, ops -> ops == Readiness.ACCEPTABLE);
            SocketHandle child;
            while ((child = server.tryAccept()) != null) {
                track(child);
                accepted++;
            }
        }
        for (SocketHandle c : clients) {
            Recorder r = new Recorder();
            c.setReadinessListener(r);
            r.awaitOps(c, ops -> ops != 0);
            assertThat(c.finishConnect()).isTrue();
        }
        assertThat(server.readyOps()).isZero();
        server.close();
        assertThat(Arrays.stream(clients).allMatch(SocketHandle::isConnected)).isTrue();
    }
}
