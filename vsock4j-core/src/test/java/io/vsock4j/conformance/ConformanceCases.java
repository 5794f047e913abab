package io.vsock4j.conformance;

import io.vsock4j.MessageFlags;
import io.vsock4j.MessageInfo;
import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.spi.SocketHandle;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The conformance cases of tools/testing/vsock/vsock_test.c that a provider must pass with the same
 * exception types and errno names, written once and run per provider: the Java loopback on every build
 * ({@code LoopbackConformanceTest}) and the kernel inside the QEMU guest
 * ({@code io.vsock4j.transport.kernel.KernelConformanceGuestCases}, driven by {@code KernelInGuestTest}).
 */
public abstract class ConformanceCases extends ProviderFixture {

    /**
     * Whether the provider may refuse MSG_PEEK on SEQPACKET with EOPNOTSUPP, leaving the message queued.
     * Linux 6.1 does (virtio_transport_seqpacket_dequeue); the Java engine must not.
     */
    protected boolean mayRefuseSeqpacketPeek() {
        return false;
    }

    // ------------------------------------------------------------------------------------------------
    // connect and bind

    @Test
    void connectWithNothingBoundIsReset() throws Exception {
        VsockSocket s = track(VsockSocket.open(provider));
        assertThatThrownBy(() -> s.connect(VsockAddress.local(freshPort())))
                .isInstanceOf(ConnectException.class).hasMessageStartingWith("ECONNRESET");
    }

    @Test
    void connectToABoundButNotListeningSocketIsReset() throws Exception {
        int port = freshPort();
        VsockSocket bound = track(VsockSocket.open(provider));
        bound.bind(VsockAddress.of(VsockAddress.CID_ANY, port));
        VsockSocket s = track(VsockSocket.open(provider));
        assertThatThrownBy(() -> s.connect(VsockAddress.local(port)))
                .isInstanceOf(ConnectException.class).hasMessageStartingWith("ECONNRESET");
    }

    @Test
    void aFailedConnectMayBeRetried() throws Exception {
        int port = freshPort();
        VsockSocket s = track(VsockSocket.open(provider));
        assertThatThrownBy(() -> s.connect(VsockAddress.local(port))).isInstanceOf(ConnectException.class);
        listen(port);
        s.connect(VsockAddress.local(port));
        assertThat(s.isConnected()).isTrue();
        assertThatThrownBy(() -> s.connect(VsockAddress.local(port)))
                .isInstanceOf(SocketException.class).hasMessageStartingWith("EISCONN");
    }

    @Test
    void theSamePortTwiceIsEADDRINUSE() throws Exception {
        int port = freshPort();
        VsockSocket a = track(VsockSocket.open(provider));
        a.bind(VsockAddress.of(VsockAddress.CID_ANY, port));
        VsockSocket b = track(VsockSocket.open(provider));
        assertThatThrownBy(() -> b.bind(VsockAddress.of(VsockAddress.CID_ANY, port)))
                .isInstanceOf(BindException.class).hasMessageStartingWith("EADDRINUSE");
        assertThatThrownBy(() -> b.bind(VsockAddress.local(port)))
                .isInstanceOf(BindException.class).hasMessageStartingWith("EADDRINUSE");
    }

    @Test
    void bindingTwiceIsEINVAL() throws Exception {
        VsockSocket a = track(VsockSocket.open(provider));
        a.bind(VsockAddress.any());
        assertThatThrownBy(() -> a.bind(VsockAddress.any()))
                .isInstanceOf(SocketException.class).hasMessageStartingWith("EINVAL");
    }

    @Test
    void bindingACidTheMachineDoesNotOwnIsEADDRNOTAVAIL() throws Exception {
        VsockSocket s = track(VsockSocket.open(provider));
        assertThatThrownBy(() -> s.bind(VsockAddress.of(42, freshPort())))
                .isInstanceOf(BindException.class).hasMessageStartingWith("EADDRNOTAVAIL");
    }

    @Test
    void listenNeedsABoundSocket() throws Exception {
        SocketHandle unbound = track(provider.open(SocketType.STREAM));
        assertThatThrownBy(() -> unbound.listen(5))
                .isInstanceOf(SocketException.class).hasMessageStartingWith("EINVAL");
    }

    @Test
    void operationsBeforeConnectAreENOTCONN() throws Exception {
        VsockSocket s = track(VsockSocket.open(provider));
        assertThatThrownBy(() -> s.getOutputStream().write(1)).hasMessageStartingWith("ENOTCONN");
        assertThatThrownBy(() -> s.getInputStream().read()).hasMessageStartingWith("ENOTCONN");
        assertThatThrownBy(s::shutdownOutput).hasMessageStartingWith("ENOTCONN");
    }

    @Test
    void aHundredConnections() throws Exception {
        int port = freshPort();
        VsockServerSocket server = listen(port);
        Future<Integer> acceptor = peer(() -> {
            int sum = 0;
            for (int i = 0; i < 100; i++) {
                try (VsockSocket a = server.accept()) {
                    sum += a.getInputStream().read();
                }
            }
            return sum;
        });
        int expected = 0;
        for (int i = 0; i < 100; i++) {
            try (VsockSocket c = VsockSocket.connect(provider, VsockAddress.local(port))) {
                c.getOutputStream().write(i);
                expected += i;
                c.shutdownOutput();
                assertThat(c.getInputStream().read()).isEqualTo(-1);
            }
        }
        assertThat(acceptor.get(60, TimeUnit.SECONDS)).isEqualTo(expected);
    }

    @Test
    void acceptedSocketsInheritBufferOptionsAndSeeTheirPeer() throws Exception {
        int port = freshPort();
        VsockServerSocket server = track(VsockServerSocket.open(provider));
        server.setOption(VsockOptions.BUFFER_SIZE, 64L * 1024);
        server.bind(VsockAddress.of(VsockAddress.CID_ANY, port));
        VsockSocket client = connect(port);
        VsockSocket accepted = track(server.accept());
        assertThat(accepted.getOption(VsockOptions.BUFFER_SIZE)).isEqualTo(64L * 1024);
        assertThat(accepted.getRemoteAddress().port()).isEqualTo(client.getLocalAddress().port());
        assertThat(accepted.getRemoteAddress().cid()).isEqualTo(VsockAddress.CID_LOCAL);
        assertThat(accepted.getLocalAddress()).isEqualTo(VsockAddress.local(port));
        assertThat(client.getRemoteAddress()).isEqualTo(VsockAddress.local(port));
    }

    // ------------------------------------------------------------------------------------------------
    // stream data, shutdown, close

    @Test
    void bytesArriveInOrderAndIntact() throws Exception {
        VsockSocket[] p = streamPair();
        byte[] data = new byte[1 << 20];
        new Random(1).nextBytes(data);
        Future<byte[]> reader = peer(() -> p[1].getInputStream().readAllBytes());
        try (OutputStream out = p[0].getOutputStream()) {
            out.write(data);
        }
        assertThat(sha256(reader.get(60, TimeUnit.SECONDS))).isEqualTo(sha256(data));
    }

    @Test
    void halfCloseGivesEofThenEpipe() throws Exception {
        VsockSocket[] p = streamPair();
        p[0].getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
        p[0].shutdownOutput();
        assertThat(p[0].getRemoteAddress()).as("the peer's address after a half-close").isEqualTo(p[1].getLocalAddress());
        InputStream in = p[1].getInputStream();
        assertThat(new String(in.readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("hello");
        assertThat(in.read()).isEqualTo(-1);
        assertThat(in.read()).isEqualTo(-1);
        // The half-closed side still reads.
        p[1].getOutputStream().write('!');
        assertThat(p[0].getInputStream().read()).isEqualTo('!');
        assertThatThrownBy(() -> p[0].getOutputStream().write(1))
                .isInstanceOf(SocketException.class).hasMessageStartingWith("EPIPE");
    }

    @Test
    void sendAfterThePeersShutdownInputIsEpipe() throws Exception {
        VsockSocket[] p = streamPair();
        p[1].shutdownInput();
        // The peer's SHUTDOWN travels as a packet: wait for it, bounded.
        Throwable failure = null;
        for (int i = 0; i < 200 && failure == null; i++) {
            try {
                p[0].getOutputStream().write(1);
                Thread.sleep(10);
            } catch (SocketException e) {
                failure = e;
            }
        }
        assertThat(failure).isInstanceOf(SocketException.class).hasMessageStartingWith("EPIPE");
    }

    @Test
    void peerCloseLeavesPendingBytesReadableThenEof() throws Exception {
        VsockSocket[] p = streamPair();
        p[1].getOutputStream().write(42);
        p[1].close();
        InputStream in = p[0].getInputStream();
        assertThat(in.read()).isEqualTo(42);
        assertThat(in.read()).isEqualTo(-1);
    }

    @Test
    void smallWritesMergeIntoOneRead() throws Exception {
        VsockSocket[] p = streamPair();
        p[0].getOutputStream().write("HELLO".getBytes(StandardCharsets.US_ASCII));
        p[0].getOutputStream().write("WORLD".getBytes(StandardCharsets.US_ASCII));
        byte[] b = new byte[10];
        int n = p[1].receive(b, 0, 10, MessageFlags.MSG_WAITALL);
        assertThat(n).isEqualTo(10);
        assertThat(new String(b, StandardCharsets.US_ASCII)).isEqualTo("HELLOWORLD");
    }

    @Test
    void streamPeekShowsWhatTheReadThenReturns() throws Exception {
        VsockSocket[] p = streamPair();
        byte[] b = new byte[16];
        assertThat(p[1].receive(b, 0, 16, MessageFlags.MSG_PEEK | MessageFlags.MSG_DONTWAIT)).isZero();
        p[0].getOutputStream().write("HELLOWORLD".getBytes(StandardCharsets.US_ASCII));
        byte[] partial = new byte[5];
        assertThat(p[1].receive(partial, 0, 5, MessageFlags.MSG_PEEK)).isEqualTo(5);
        assertThat(new String(partial, StandardCharsets.US_ASCII)).isEqualTo("HELLO");
        byte[] full = new byte[10];
        waitForQueued(p[1], 10);
        assertThat(p[1].receive(full, 0, 10, MessageFlags.MSG_PEEK)).isEqualTo(10);
        byte[] read = new byte[10];
        assertThat(p[1].receive(read, 0, 10, MessageFlags.MSG_WAITALL)).isEqualTo(10);
        assertThat(read).isEqualTo(full);
    }

    @Test
    void soTimeoutExpiresAndLeavesTheSocketUsable() throws Exception {
        VsockSocket[] p = streamPair();
        p[1].setSoTimeout(200);
        long start = System.nanoTime();
        assertThatThrownBy(() -> p[1].getInputStream().read())
                .isInstanceOf(SocketTimeoutException.class).hasMessageStartingWith("EAGAIN");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(190));
        p[0].getOutputStream().write(7);
        assertThat(p[1].getInputStream().read()).isEqualTo(7);
    }

    @Test
    void acceptTimesOut() throws Exception {
        VsockServerSocket server = listen(freshPort());
        server.setSoTimeout(150);
        assertThatThrownBy(server::accept).isInstanceOf(SocketTimeoutException.class).hasMessageStartingWith("EAGAIN");
    }

    // ------------------------------------------------------------------------------------------------
    // close and interrupt wake blocked threads

    @Test
    void closeWakesABlockedRead() throws Exception {
        VsockSocket[] p = streamPair();
        AtomicReference<Thread> t = new AtomicReference<>();
        Future<Throwable> reader = peer(() -> {
            t.set(Thread.currentThread());
            try {
                p[1].getInputStream().read();
                return null;
            } catch (Throwable e) {
                return e;
            }
        });
        awaitStarted(t);
        awaitBlocked(t.get());
        p[1].close();
        assertThat(reader.get(10, TimeUnit.SECONDS)).isInstanceOf(SocketException.class).hasMessage("Socket closed");
    }

    @Test
    void interruptWakesABlockedReadAndClosesTheSocket() throws Exception {
        VsockSocket[] p = streamPair();
        AtomicReference<Thread> t = new AtomicReference<>();
        Future<Object[]> reader = peer(() -> {
            t.set(Thread.currentThread());
            try {
                p[1].getInputStream().read();
                return new Object[] {null, false};
            } catch (Throwable e) {
                return new Object[] {e, Thread.currentThread().isInterrupted()};
            }
        });
        awaitStarted(t);
        awaitBlocked(t.get());
        t.get().interrupt();
        Object[] r = reader.get(10, TimeUnit.SECONDS);
        assertThat(r[0]).isInstanceOf(ClosedByInterruptException.class);
        assertThat(r[1]).isEqualTo(true);
        assertThat(p[1].isClosed()).isTrue();
    }

    @Test
    void closeAndInterruptWakeReadsOnPlatformThreadsToo() throws Exception {
        for (boolean interrupt : new boolean[] {false, true}) {
            VsockSocket[] p = streamPair();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread reader = Thread.ofPlatform().name("conformance-platform-reader").start(() -> {
                try {
                    p[1].getInputStream().read();
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            awaitInRead(reader);
            if (interrupt) {
                reader.interrupt();
            } else {
                p[1].close();
            }
            reader.join(10_000);
            assertThat(reader.isAlive()).as("reader still blocked").isFalse();
            if (interrupt) {
                assertThat(failure.get()).isInstanceOf(ClosedByInterruptException.class);
            } else {
                assertThat(failure.get()).isInstanceOf(SocketException.class).hasMessage("Socket closed");
            }
            assertThat(p[1].isClosed()).isTrue();
        }
    }

    @Test
    void closeAndInterruptWakeABlockedAccept() throws Exception {
        VsockServerSocket server = listen(freshPort());
        AtomicReference<Thread> t = new AtomicReference<>();
        Future<Throwable> acceptor = peer(() -> {
            t.set(Thread.currentThread());
            try {
                server.accept();
                return null;
            } catch (Throwable e) {
                return e;
            }
        });
        awaitStarted(t);
        awaitBlocked(t.get());
        server.close();
        assertThat(acceptor.get(10, TimeUnit.SECONDS)).isInstanceOf(SocketException.class).hasMessage("Socket closed");

        VsockServerSocket second = listen(freshPort());
        AtomicReference<Thread> t2 = new AtomicReference<>();
        Future<Throwable> acceptor2 = peer(() -> {
            t2.set(Thread.currentThread());
            try {
                second.accept();
                return null;
            } catch (Throwable e) {
                return e;
            }
        });
        awaitStarted(t2);
        awaitBlocked(t2.get());
        t2.get().interrupt();
        assertThat(acceptor2.get(10, TimeUnit.SECONDS)).isInstanceOf(ClosedByInterruptException.class);
        assertThat(second.isClosed()).isTrue();
    }

    @Test
    void closeAndInterruptWakeAWriteBlockedOnCredit() throws Exception {
        for (boolean interrupt : new boolean[] {false, true}) {
            VsockSocket[] p = streamPair();
            AtomicReference<Thread> t = new AtomicReference<>();
            Future<Throwable> writer = peer(() -> {
                t.set(Thread.currentThread());
                try {
                    p[0].getOutputStream().write(new byte[4 << 20]); // far beyond the peer's 256 KiB
                    return null;
                } catch (Throwable e) {
                    return e;
                }
            });
            awaitStarted(t);
            awaitBlocked(t.get());
            if (interrupt) {
                t.get().interrupt();
                assertThat(writer.get(10, TimeUnit.SECONDS)).isInstanceOf(ClosedByInterruptException.class);
            } else {
                p[0].close();
                assertThat(writer.get(10, TimeUnit.SECONDS)).isInstanceOf(SocketException.class).hasMessage("Socket closed");
            }
            assertThat(p[0].isClosed()).isTrue();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // SEQPACKET

    @Test
    void seqpacketKeepsMessageBoundariesAndRecordEnds() throws Exception {
        VsockSeqpacketSocket[] p = seqpacketPair();
        Random random = new Random(7);
        List<byte[]> sent = new ArrayList<>();
        List<Boolean> eors = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            byte[] m = new byte[1 + random.nextInt(8000)];
            random.nextBytes(m);
            sent.add(m);
            eors.add(random.nextBoolean());
        }
        Future<Void> sender = peer(() -> {
            for (int i = 0; i < sent.size(); i++) {
                byte[] m = sent.get(i);
                assertThat(p[0].send(m, 0, m.length, eors.get(i) ? MessageFlags.MSG_EOR : 0)).isEqualTo(m.length);
            }
            return null;
        });
        byte[] buf = new byte[16 * 1024];
        MessageInfo info = new MessageInfo();
        for (int i = 0; i < sent.size(); i++) {
            int n = p[1].receive(buf, 0, buf.length, 0, info);
            assertThat(n).as("message %d length", i).isEqualTo(sent.get(i).length);
            assertThat(Arrays.copyOf(buf, n)).as("message %d bytes", i).isEqualTo(sent.get(i));
            assertThat(info.endOfRecord()).as("message %d MSG_EOR", i).isEqualTo(eors.get(i));
            assertThat(info.truncated()).isFalse();
        }
        sender.get(30, TimeUnit.SECONDS);
    }

    @Test
    void seqpacketShortBufferTruncatesAndReportsTheRealLength() throws Exception {
        VsockSeqpacketSocket[] p = seqpacketPair();
        byte[] m = new byte[100];
        Arrays.fill(m, (byte) 'x');
        p[0].send(m);
        p[0].send(m);
        p[0].send("next".getBytes(StandardCharsets.US_ASCII));
        byte[] small = new byte[10];
        MessageInfo info = new MessageInfo();
        assertThat(p[1].receive(small, 0, 10, 0, info)).isEqualTo(10);
        assertThat(info.truncated()).isTrue();
        assertThat(info.length()).isEqualTo(100);
        assertThat(p[1].receive(small, 0, 10, MessageFlags.MSG_TRUNC, info)).isEqualTo(100);
        assertThat(info.truncated()).isTrue();
        byte[] b = new byte[10];
        int n = p[1].receive(b, 0, 10, 0, info);
        assertThat(new String(b, 0, n, StandardCharsets.US_ASCII)).isEqualTo("next");
        assertThat(info.truncated()).isFalse();
    }

    @Test
    void seqpacketPeekLeavesTheMessageQueued() throws Exception {
        VsockSeqpacketSocket[] p = seqpacketPair();
        byte[] b = new byte[32];
        assertThat(p[1].receive(b, 0, 32, MessageFlags.MSG_PEEK | MessageFlags.MSG_DONTWAIT, null)).isZero();
        p[0].send("first".getBytes(StandardCharsets.US_ASCII));
        p[0].send("second".getBytes(StandardCharsets.US_ASCII));
        int n;
        try {
            n = p[1].receive(b, 0, 32, MessageFlags.MSG_PEEK, null);
            assertThat(new String(b, 0, n, StandardCharsets.US_ASCII)).isEqualTo("first");
        } catch (SocketException refused) {
            assertThat(mayRefuseSeqpacketPeek()).as("SEQPACKET MSG_PEEK refused: " + refused).isTrue();
            assertThat(refused).hasMessageStartingWith("EOPNOTSUPP");
        }
        n = p[1].receive(b, 0, 32, 0, null);
        assertThat(new String(b, 0, n, StandardCharsets.US_ASCII)).isEqualTo("first");
        n = p[1].receive(b, 0, 32, 0, null);
        assertThat(new String(b, 0, n, StandardCharsets.US_ASCII)).isEqualTo("second");
    }

    @Test
    void seqpacketMessageLargerThanThePeersBufferIsEMSGSIZE() throws Exception {
        VsockSeqpacketSocket[] p = seqpacketPair();
        long peerBuffer = p[1].getOption(VsockOptions.BUFFER_SIZE);
        byte[] m = new byte[(int) peerBuffer + 1];
        assertThatThrownBy(() -> p[0].send(m)).isInstanceOf(SocketException.class).hasMessageStartingWith("EMSGSIZE");
        // The connection survives: a message that fits still goes.
        p[0].send(new byte[] {1, 2, 3});
        byte[] b = new byte[8];
        assertThat(p[1].receive(b)).isEqualTo(3);
    }

    @Test
    void seqpacketReceiveTimesOut() throws Exception {
        VsockSeqpacketSocket[] p = seqpacketPair();
        p[1].setSoTimeout(200);
        assertThatThrownBy(() -> p[1].receive(new byte[8]))
                .isInstanceOf(SocketTimeoutException.class).hasMessageStartingWith("EAGAIN");
        p[0].send(new byte[] {9});
        assertThat(p[1].receive(new byte[8])).isEqualTo(1);
    }

    @Test
    void seqpacketEofAfterThePeerCloses() throws Exception {
        VsockSeqpacketSocket[] p = seqpacketPair();
        p[0].send(new byte[] {1});
        p[0].close();
        byte[] b = new byte[8];
        assertThat(p[1].receive(b)).isEqualTo(1);
        assertThat(p[1].receive(b)).isEqualTo(-1);
    }

    // ------------------------------------------------------------------------------------------------
    // options

    @Test
    void bufferSizesClampAsInTheKernel() throws Exception {
        VsockSocket s = track(VsockSocket.open(provider));
        assertThat(s.getOption(VsockOptions.BUFFER_SIZE)).isEqualTo(VsockOptions.DEFAULT_BUFFER_SIZE_BYTES);
        assertThat(s.getOption(VsockOptions.BUFFER_MIN_SIZE)).isEqualTo(VsockOptions.DEFAULT_BUFFER_MIN_SIZE_BYTES);
        assertThat(s.getOption(VsockOptions.BUFFER_MAX_SIZE)).isEqualTo(VsockOptions.DEFAULT_BUFFER_MAX_SIZE_BYTES);
        s.setOption(VsockOptions.BUFFER_MAX_SIZE, 64L * 1024);
        assertThat(s.getOption(VsockOptions.BUFFER_SIZE)).isEqualTo(64L * 1024);
        s.setOption(VsockOptions.BUFFER_SIZE, 1L << 20);
        assertThat(s.getOption(VsockOptions.BUFFER_SIZE)).isEqualTo(64L * 1024);
        s.setOption(VsockOptions.BUFFER_SIZE, 16L);
        assertThat(s.getOption(VsockOptions.BUFFER_SIZE)).isEqualTo(VsockOptions.DEFAULT_BUFFER_MIN_SIZE_BYTES);
    }

    @Test
    void connectTimeoutAndRcvlowatRoundTrip() throws Exception {
        VsockSocket s = track(VsockSocket.open(provider));
        assertThat(s.getOption(VsockOptions.CONNECT_TIMEOUT)).isEqualTo(VsockOptions.DEFAULT_CONNECT_TIMEOUT);
        s.setOption(VsockOptions.CONNECT_TIMEOUT, Duration.ofMillis(300));
        assertThat(s.getOption(VsockOptions.CONNECT_TIMEOUT)).isEqualTo(Duration.ofMillis(300));
        assertThatThrownBy(() -> s.setOption(VsockOptions.CONNECT_TIMEOUT, Duration.ZERO))
                .isInstanceOf(SocketException.class).hasMessageStartingWith("EINVAL");
        s.setOption(VsockOptions.SO_RCVLOWAT, 100);
        assertThat(s.getOption(VsockOptions.SO_RCVLOWAT)).isEqualTo(100);
        assertThatThrownBy(() -> s.setOption(VsockOptions.SO_RCVLOWAT, (int) VsockOptions.DEFAULT_BUFFER_SIZE_BYTES + 1))
                .isInstanceOf(SocketException.class).hasMessageStartingWith("EINVAL");
    }

    @Test
    void rcvlowatHoldsAReadUntilEnoughIsQueued() throws Exception {
        VsockSocket[] p = streamPair();
        p[1].setOption(VsockOptions.SO_RCVLOWAT, 4);
        Future<Integer> reader = peer(() -> p[1].getInputStream().read(new byte[16]));
        p[0].getOutputStream().write(new byte[] {1, 2});
        Thread.sleep(200);
        assertThat(reader.isDone()).as("read returned with 2 of 4 bytes").isFalse();
        p[0].getOutputStream().write(new byte[] {3, 4});
        assertThat(reader.get(10, TimeUnit.SECONDS)).isEqualTo(4);
    }

    // ------------------------------------------------------------------------------------------------

    /**
     * Waits until {@code t} is inside a socket read and stays there: a platform thread waiting in a
     * system call is RUNNABLE, so its state cannot tell.
     */
    private static void awaitInRead(Thread t) throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            boolean inRead = java.util.Arrays.stream(t.getStackTrace())
                    .anyMatch(f -> f.getClassName().startsWith("io.vsock4j.VsockSocket") && f.getMethodName().equals("read"));
            if (inRead) {
                Thread.sleep(200);
                assertThat(t.isAlive()).as("reader returned without data").isTrue();
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError(t + " never reached read");
    }

    private static void awaitStarted(AtomicReference<Thread> t) throws InterruptedException {
        for (int i = 0; i < 500 && t.get() == null; i++) {
            Thread.sleep(5);
        }
        assertThat(t.get()).as("peer thread started").isNotNull();
    }

    private static void waitForQueued(VsockSocket s, int n) throws Exception {
        byte[] b = new byte[n];
        for (int i = 0; i < 200; i++) {
            if (s.receive(b, 0, n, MessageFlags.MSG_PEEK | MessageFlags.MSG_DONTWAIT) >= n) {
                return;
            }
            Thread.sleep(10);
        }
    }

    static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }
}
