package io.vsock4j.transport.hybrid;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;

import static io.vsock4j.transport.hybrid.InJvmHybridGuest.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link HybridClientTransport} against a VMM the test scripts byte by byte: a plain Unix listener at the
 * guest's {@code uds_path} that reads the CONNECT line and answers as told, split, garbled, too long,
 * not at all, or by closing. Every case checks the error the connect gives and that the transport's
 * connection, its threads and its descriptors are gone afterwards.
 */
@Timeout(60)
class HybridClientScriptedPeerTest {
    private static final int GUEST = 3;
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofMillis(1500);

    private Path dir;
    private Path uds;
    private ServerSocketChannel vmm;
    private HybridClientTransport transport;
    private Machine client;
    private long fdsBefore;

    @BeforeEach
    void start() throws IOException {
        dir = Files.createTempDirectory("hybp");
        uds = dir.resolve("vm.sock");
        vmm = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        vmm.bind(UnixDomainSocketAddress.of(uds));
        transport = new HybridClientTransport(Map.of(GUEST, uds), HANDSHAKE_TIMEOUT);
        client = Machine.builder().name("client").transport(transport).build();
        warmUp();
    }

    /**
     * One good connection first, so what the JVM opens once (virtual-thread pollers) is open before
     * the descriptors are counted.
     */
    private void warmUp() throws IOException {
        Thread peer = Thread.ofVirtual().start(() -> script(c -> {
            readLine(c);
            write(c, "OK 1\n");
            readAll(c);
        }));
        VsockSocket.connect(client, VsockAddress.of(GUEST, 5000)).close();
        try {
            peer.join();
            // Its threads gone too: a socket closed under a blocked virtual thread frees its descriptor as that thread leaves.
            await(() -> transport.connectionCount() == 0 && transport.threadCount() == 1, "the warm-up connection ended");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        fdsBefore = openFds();
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        vmm.close();
        Files.deleteIfExists(uds);
        Files.deleteIfExists(dir);
    }

    @Test
    void anOkSplitAcrossWritesConnectsAndBytesAfterItsNewlineAreTheFirstData() throws Exception {
        Thread peer = Thread.ofVirtual().start(() -> script(c -> {
            assertThat(readLine(c)).isEqualTo("CONNECT 5000");
            for (String part : new String[] {"o", "K 10737", "41824\r\nhel", "lo"}) {
                write(c, part);
                Thread.sleep(20); // separate reads on the other side, most of the time
            }
            c.shutdownOutput();
            assertThat(readAll(c)).isEqualTo("ping");
        }));
        try (VsockSocket s = VsockSocket.connect(client, VsockAddress.of(GUEST, 5000))) {
            assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("hello");
            s.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            peer.join();
        }
        assertNothingLeft();
    }

    @Test
    void garbageInsteadOfOkIsEconnreset() throws Exception {
        assertConnectFails(c -> write(c, "HTTP/1.1 400 Bad Request\n"), ConnectException.class, "ECONNRESET");
        assertConnectFails(c -> write(c, "OK\n"), ConnectException.class, "ECONNRESET");
        assertConnectFails(c -> write(c, "OK five\n"), ConnectException.class, "ECONNRESET");
    }

    @Test
    void anOverlongLineIsEconnresetBeforeItsNewline() throws Exception {
        assertConnectFails(c -> write(c, "OK " + "1".repeat(40)), ConnectException.class, "ECONNRESET");
    }

    @Test
    void aVmmThatClosesWithoutOkIsEconnreset() throws Exception {
        assertConnectFails(c -> { }, ConnectException.class, "ECONNRESET");
        assertConnectFails(c -> write(c, "OK 52"), ConnectException.class, "ECONNRESET"); // no newline before EOF
    }

    @Test
    void noVmmSocketIsEconnreset() throws Exception {
        vmm.close();
        Files.delete(uds);
        fdsBefore = openFds();
        assertThatThrownBy(() -> VsockSocket.connect(client, VsockAddress.of(GUEST, 5000)))
                .isInstanceOf(ConnectException.class).hasMessageContaining("ECONNRESET");
        assertNothingLeft();
    }

    @Test
    void aSilentVmmIsEtimedoutAndItsSocketIsClosedAfterTheHandshakeTimeout() throws Exception {
        Thread peer = Thread.ofVirtual().start(() -> script(c -> {
            assertThat(readLine(c)).isEqualTo("CONNECT 5000");
            assertThat(c.read(ByteBuffer.allocate(1))).as("the transport closes the socket").isEqualTo(-1);
        }));
        VsockSocket s = VsockSocket.open(client);
        assertThatThrownBy(() -> s.connect(VsockAddress.of(GUEST, 5000), 300))
                .isInstanceOf(SocketTimeoutException.class).hasMessageContaining("ETIMEDOUT");
        s.close();
        peer.join();
        assertNothingLeft();
    }

    @Test
    void aResetFromTheJavaSideClosesTheUnixSocket() throws Exception {
        Thread peer = Thread.ofVirtual().start(() -> script(c -> {
            readLine(c);
            write(c, "OK 1\n");
            assertThat(readAll(c)).isEqualTo("bye");
        }));
        VsockSocket s = VsockSocket.connect(client, VsockAddress.of(GUEST, 5000));
        s.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
        s.close(); // SHUTDOWN both: the transport writes what was sent, answers RST, closes
        peer.join();
        assertNothingLeft();
    }

    /**
     * {@code vsock nc} writes its last bytes, closes its socket and then its machine, and exits. The
     * engine's write returned once the transport had the bytes, so up to a credit window of them may
     * still wait for the VMM's socket when the machine closes; they must reach it (a kernel socket
     * closed right after its last write delivers them too). CI lost the last 128 KiB of 1 MiB this way.
     *
     * <p>The stream is exactly one credit window ({@link ClientConnection#BUF_ALLOC_BYTES}), so the write
     * returns with no credit update, and the VMM reads nothing until the machine's close began: what the
     * Unix socket's buffer (about 200 KiB here) cannot hold is still queued in the transport then. (A
     * first version read most of a larger stream before pausing; whether its write could finish then
     * depended on when the transport announced its credit, and once in CI it could not.)
     */
    @Test
    void closingTheMachineRightAfterTheLastWriteStillDeliversEveryByte() throws Exception {
        byte[] data = new byte[ClientConnection.BUF_ALLOC_BYTES];
        new java.util.Random(17).nextBytes(data);
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        Thread peer = Thread.ofVirtual().start(() -> script(c -> {
            readLine(c);
            write(c, "OK 1\n");
            await(transport::isClosed, "the machine's close began");
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            for (int n; (n = c.read(buf.clear())) >= 0; ) {
                got.write(buf.array(), 0, n);
            }
        }));
        VsockSocket s = VsockSocket.connect(client, VsockAddress.of(GUEST, 5000));
        s.getOutputStream().write(data);
        s.close();
        client.close();
        peer.join();
        assertThat(got.size()).as("bytes the VMM got").isEqualTo(data.length);
        assertThat(java.util.Arrays.mismatch(got.toByteArray(), data)).as("first byte that differs").isEqualTo(-1);
        assertThat(transport.connectionCount()).isZero();
        assertThat(transport.threadCount()).isZero();
    }

    // ------------------------------------------------------------------------------------------------

    private void assertConnectFails(Script script, Class<? extends Exception> type, String errno) throws Exception {
        Thread peer = Thread.ofVirtual().start(() -> script(c -> {
            assertThat(readLine(c)).isEqualTo("CONNECT 5000");
            script.run(c);
        }));
        assertThatThrownBy(() -> VsockSocket.connect(client, VsockAddress.of(GUEST, 5000)))
                .isInstanceOf(type).hasMessageContaining(errno);
        peer.join();
        assertNothingLeft();
    }

    private void assertNothingLeft() throws Exception {
        await(() -> transport.connectionCount() == 0 && client.connectionCount() == 0, "the connection ended on both sides");
        await(() -> transport.threadCount() == 1, "only the delivery thread left");
        try {
            await(() -> openFds() == fdsBefore, "descriptors back to " + fdsBefore);
        } catch (AssertionError e) {
            assertThat(openFds()).as("descriptors open in this process").isEqualTo(fdsBefore);
        }
    }

    @FunctionalInterface
    private interface Script {
        void run(SocketChannel c) throws Exception;
    }

    /** Accepts one connection and runs {@code body} on it, then closes it; failures surface as the test's. */
    private void script(Script body) {
        try (SocketChannel c = vmm.accept()) {
            body.run(c);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static long openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void write(SocketChannel c, String s) throws IOException {
        UnixSockets.writeAll(c, s.getBytes(StandardCharsets.US_ASCII));
    }

    private static String readLine(SocketChannel c) throws IOException {
        StringBuilder b = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (c.read(one.clear()) > 0 && one.get(0) != '\n') {
            b.append((char) one.get(0));
        }
        return b.toString();
    }

    private static String readAll(SocketChannel c) throws IOException {
        StringBuilder b = new StringBuilder();
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (c.read(buf.clear()) >= 0) {
            b.append(new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII));
        }
        return b.toString();
    }
}
