package io.vsock4j.transport.hybrid;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.link.GuestTransport;
import io.vsock4j.transport.link.HostTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.vsock4j.transport.hybrid.InJvmHybridGuest.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The hybrid bridge against a guest in this JVM: a host machine whose H2G transport holds guest 3 on a
 * memory link, the guest a machine of its own with that link as its G2H transport. Host programs are
 * played by java.nio Unix sockets, exactly the bytes socat or a Firecracker client would send.
 */
@Timeout(60)
class HybridUnixBridgeTest {
    private static final int GUEST = 3;
    private static final java.util.concurrent.Executor ASYNC = task -> Thread.ofVirtual().start(task);
    private Path dir;
    private Path uds;
    private HostTransport h2g;
    private Machine host;
    private Machine guest;
    private HybridHost hybrid;
    private HybridUnixBridge bridge;

    private InJvmHybridGuest vm;

    @BeforeEach
    void start() throws IOException {
        vm = new InJvmHybridGuest(GUEST);
        dir = vm.dir;
        uds = vm.uds;
        h2g = vm.h2g;
        host = vm.host;
        guest = vm.guest;
        hybrid = vm.hybrid;
        bridge = vm.bridge;
    }

    @AfterEach
    void stop() throws IOException {
        if (hybrid != vm.hybrid) {
            hybrid.close(); // a test's own (redirecting) hybrid host
        }
        vm.close();
    }

    // ------------------------------------------------------------------------------------------------
    // Host to guest: CONNECT <port>

    @Test
    void aConnectLineSplitAcrossWritesInAnyCaseReachesTheGuestListener() throws Exception {
        try (VsockServerSocket server = guestListener(5000); SocketChannel c = unixConnect(uds)) {
            write(c, "co");
            Thread.sleep(50);
            write(c, "NnEcT 50");
            Thread.sleep(50);
            write(c, "00\n");
            String ok = readLine(c);
            try (VsockSocket accepted = server.accept()) {
                assertThat(ok).isEqualTo("OK " + accepted.getRemoteAddress().port());
                assertThat(accepted.getRemoteAddress().cid()).isEqualTo(VsockAddress.CID_HOST);
                write(c, "ping");
                assertThat(new String(accepted.getInputStream().readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("ping");
                accepted.getOutputStream().write("pong".getBytes(StandardCharsets.US_ASCII));
                assertThat(readN(c, 4)).isEqualTo("pong");
            }
        }
    }

    @Test
    void bytesSentRightAfterTheNewlineReachTheGuestFirst() throws Exception {
        try (VsockServerSocket server = guestListener(5000); SocketChannel c = unixConnect(uds)) {
            write(c, "CONNECT 5000\nhello, guest");
            c.shutdownOutput();
            assertThat(readLine(c)).startsWith("OK ");
            try (VsockSocket accepted = server.accept()) {
                assertThat(new String(accepted.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("hello, guest");
            }
        }
    }

    @Test
    void anOverlongLineClosesThatSocketOnly() throws Exception {
        try (VsockServerSocket server = guestListener(5000)) {
            try (SocketChannel c = unixConnect(uds)) {
                write(c, "CONNECT " + "5".repeat(40));
                assertThat(readToEnd(c)).isEmpty();
            }
            assertBridgeStillWorks(server);
        }
    }

    @Test
    void garbageClosesThatSocketWithNoReply() throws Exception {
        try (VsockServerSocket server = guestListener(5000)) {
            for (String line : new String[] {"GET / HTTP/1.0\r\n", "CONNECT five\n", "CONNECT\n", "LISTEN 5000\n", "\n"}) {
                try (SocketChannel c = unixConnect(uds)) {
                    write(c, line);
                    assertThat(readToEnd(c)).as(line).isEmpty();
                }
            }
            assertBridgeStillWorks(server);
        }
    }

    @Test
    void aClientThatClosesBeforeItsNewlineLeavesNothingBehind() throws Exception {
        int threads = bridge.threadCount();
        try (SocketChannel c = unixConnect(uds)) {
            write(c, "CONNECT 50");
        }
        await(() -> bridge.threadCount() == threads, "the connection's thread ended");
        try (VsockServerSocket server = guestListener(5000)) {
            assertBridgeStillWorks(server);
        }
    }

    @Test
    void noGuestListenerClosesTheSocketWithoutAReply() throws Exception {
        try (SocketChannel c = unixConnect(uds)) {
            write(c, "CONNECT 6000\n");
            assertThat(readToEnd(c)).isEmpty();
        }
        assertThat(host.connectionCount()).isZero();
    }

    @Test
    void dataCrossesBothWaysAndHalfClosesArePassedOn() throws Exception {
        byte[] upload = random(3 << 20, 1);
        byte[] download = random(2 << 20, 2);
        try (VsockServerSocket server = guestListener(5000); SocketChannel c = unixConnect(uds)) {
            write(c, "CONNECT 5000\n");
            assertThat(readLine(c)).startsWith("OK ");
            CompletableFuture<byte[]> guestRead;
            try (VsockSocket accepted = server.accept()) {
                guestRead = CompletableFuture.supplyAsync(() -> readAll(accepted), ASYNC);
                write(c, upload);
                c.shutdownOutput(); // host program: SHUT_WR -> the guest reads EOF ...
                assertThat(guestRead.get(30, TimeUnit.SECONDS)).isEqualTo(upload);
                CompletableFuture<byte[]> hostRead = CompletableFuture.supplyAsync(() -> readToEndUnchecked(c), ASYNC);
                accepted.getOutputStream().write(download); // ... and can still answer
                accepted.shutdownOutput();
                assertThat(hostRead.get(30, TimeUnit.SECONDS)).isEqualTo(download);
            }
        }
        await(() -> bridge.connectionCount() == 0, "the splice ended once both directions did");
    }

    @Test
    void theGuestMayHalfCloseFirst() throws Exception {
        try (VsockServerSocket server = guestListener(5000); SocketChannel c = unixConnect(uds)) {
            write(c, "CONNECT 5000\n");
            readLine(c);
            try (VsockSocket accepted = server.accept()) {
                accepted.getOutputStream().write("banner".getBytes(StandardCharsets.US_ASCII));
                accepted.shutdownOutput();
                assertThat(readToEnd(c)).isEqualTo("banner"); // EOF on the Unix side ...
                write(c, "still open");                        // ... which can still write
                c.shutdownOutput();
                assertThat(new String(accepted.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("still open");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Guest to host: <uds-path>_P

    @Test
    void aGuestConnectReachesAUnixListenerCreatedAfterTheBridgeStarted() throws Exception {
        assertThatThrownBy(() -> VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7000)))
                .isInstanceOf(ConnectException.class);
        try (ServerSocketChannel listener = unixListen(dir.resolve("vm.sock_7000"))) {
            await(() -> hybrid.boundPorts().contains(7000), "the bridge bound host port 7000");
            assertThat(bridge.unixPorts()).containsExactly(7000);
            try (VsockSocket s = VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7000));
                 SocketChannel accepted = listener.accept()) {
                s.getOutputStream().write("from the guest".getBytes(StandardCharsets.US_ASCII));
                s.shutdownOutput();
                assertThat(readToEnd(accepted)).isEqualTo("from the guest");
                write(accepted, "from the host");
                accepted.shutdownOutput();
                assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("from the host");
            }
        }
        Files.delete(dir.resolve("vm.sock_7000"));
        await(() -> hybrid.boundPorts().isEmpty(), "host port 7000 released with its file");
        assertThatThrownBy(() -> VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7000)))
                .isInstanceOf(ConnectException.class).hasMessageContaining("ECONNRESET");
    }

    @Test
    void aSocketFileThatExistedAtStartIsBoundBeforeBridgeReturns() throws Exception {
        try (ServerSocketChannel listener = unixListen(dir.resolve("other.sock_7001"))) {
            HybridUnixBridge second;
            // Guest 4, its own uds-path in the same directory, a file already there.
            GuestTransport g4 = h2g.attachInMemory(4);
            try (Machine guest4 = Machine.builder().name("guest4").transport(g4).build()) {
                second = hybrid.bridge(4, dir.resolve("other.sock"));
                assertThat(hybrid.boundPorts()).containsExactly(7001);
                try (VsockSocket s = VsockSocket.connect(guest4, VsockAddress.of(VsockAddress.CID_HOST, 7001));
                     SocketChannel accepted = listener.accept()) {
                    write(accepted, "hi 4");
                    assertThat(new String(s.getInputStream().readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("hi 4");
                }
                // Guest 3 has no vm.sock_7001: its connect is accepted by the shared listener, then closed
                // at once, which the guest sees as a reset connect or as EOF, by how the packets race.
                try (VsockSocket s = VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7001))) {
                    assertThat(s.getInputStream().read()).isEqualTo(-1);
                } catch (ConnectException e) {
                    assertThat(e).hasMessageContaining("ECONNRESET");
                }
                second.close();
            }
            assertThat(hybrid.boundPorts()).isEmpty();
        }
    }

    @Test
    void twoGuestsWithTheSamePortEachReachTheirOwnUnixSocket() throws Exception {
        GuestTransport g4 = h2g.attachInMemory(4);
        try (Machine guest4 = Machine.builder().name("guest4").transport(g4).build();
             ServerSocketChannel for3 = unixListen(dir.resolve("vm.sock_7002"));
             ServerSocketChannel for4 = unixListen(dir.resolve("vm4.sock_7002"))) {
            hybrid.bridge(4, dir.resolve("vm4.sock"));
            await(() -> bridge.unixPorts().contains(7002), "guest 3's bridge saw its file");
            try (VsockSocket s3 = VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7002));
                 SocketChannel a3 = for3.accept();
                 VsockSocket s4 = VsockSocket.connect(guest4, VsockAddress.of(VsockAddress.CID_HOST, 7002));
                 SocketChannel a4 = for4.accept()) {
                s3.getOutputStream().write('3');
                s4.getOutputStream().write('4');
                assertThat(readN(a3, 1)).isEqualTo("3");
                assertThat(readN(a4, 1)).isEqualTo("4");
            }
        }
    }

    @Test
    void aJvmListenerHoldsItsPortUntilItClosesThenTheUnixSocketGetsIt() throws Exception {
        try (VsockServerSocket jvm = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 7003));
             ServerSocketChannel listener = unixListen(dir.resolve("vm.sock_7003"))) {
            await(() -> bridge.unixPorts().contains(7003), "the bridge saw the file");
            assertThat(hybrid.boundPorts()).doesNotContain(7003);
            try (VsockSocket s = VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7003));
                 VsockSocket a = jvm.accept()) {
                assertThat(a.getRemoteAddress().cid()).isEqualTo(GUEST);
            }
            jvm.close();
            await(() -> hybrid.boundPorts().contains(7003), "the bridge took the port within its retry tick");
            try (VsockSocket s = VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7003));
                 SocketChannel accepted = listener.accept()) {
                s.getOutputStream().write('x');
                assertThat(readN(accepted, 1)).isEqualTo("x");
            }
        }
    }

    /** The bridge of guest 3 on a hybrid host that redirects through the H2G transport (as vsock device runs it). */
    private HybridUnixBridge redirectingBridge() throws IOException {
        hybrid.close();
        hybrid = new HybridHost(host, h2g);
        return hybrid.bridge(GUEST, uds);
    }

    @Test
    void withRedirectsAGuestsUnixSocketWinsOverAJvmListenerForThatGuestOnly() throws Exception {
        HybridUnixBridge b = redirectingBridge();
        GuestTransport g4 = h2g.attachInMemory(4);
        try (Machine guest4 = Machine.builder().name("guest4").transport(g4).build();
             VsockServerSocket jvm = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 7005));
             ServerSocketChannel listener = unixListen(dir.resolve("vm.sock_7005"))) {
            await(() -> b.unixPorts().contains(7005), "the bridge saw the file");
            await(() -> hybrid.boundPorts().contains(7005), "a stand-in port for 7005 bound");
            try (VsockSocket s = VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7005));
                 SocketChannel accepted = listener.accept()) {
                assertThat(s.getRemoteAddress()).as("the guest sees the port it dialled")
                        .isEqualTo(VsockAddress.of(VsockAddress.CID_HOST, 7005));
                s.getOutputStream().write('3');
                assertThat(readN(accepted, 1)).isEqualTo("3");
            }
            // Guest 4 has no vm4.sock_7005: it reaches the JVM listener that holds 7005.
            try (VsockSocket s = VsockSocket.connect(guest4, VsockAddress.of(VsockAddress.CID_HOST, 7005));
                 VsockSocket a = jvm.accept()) {
                assertThat(a.getRemoteAddress().cid()).isEqualTo(4);
                assertThat(a.getLocalAddress().port()).isEqualTo(7005);
            }
            // Without its file, guest 3 reaches the JVM listener too.
            listener.close();
            Files.delete(dir.resolve("vm.sock_7005"));
            await(() -> hybrid.boundPorts().isEmpty(), "the stand-in port released with the file");
            try (VsockSocket s = VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7005));
                 VsockSocket a = jvm.accept()) {
                assertThat(a.getRemoteAddress().cid()).isEqualTo(GUEST);
            }
        }
    }

    @Test
    void withRedirectsAConnectionOutlivesItsSocketFile() throws Exception {
        HybridUnixBridge b = redirectingBridge();
        Path file = dir.resolve("vm.sock_7007");
        ServerSocketChannel listener = unixListen(file);
        await(() -> hybrid.boundPorts().contains(7007), "a stand-in port for 7007 bound");
        try (VsockSocket s = VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7007));
             SocketChannel accepted = listener.accept()) {
            // As socat UNIX-LISTEN without fork and nc -l: the listener goes after its one accept.
            listener.close();
            Files.delete(file);
            await(() -> hybrid.boundPorts().isEmpty(), "the stand-in listener released with the file");
            byte[] up = random(1 << 20, 7007);
            CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> readToEndUnchecked(accepted), ASYNC);
            s.getOutputStream().write(up);
            s.shutdownOutput();
            assertThat(got.get(30, TimeUnit.SECONDS)).as("what the Unix side got after its file went").isEqualTo(up);
            write(accepted, "still here");
            accepted.shutdownOutput();
            assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("still here");
        }
        assertThat(b.unixPorts()).isEmpty();
    }

    @Test
    void withRedirectsAGuestWithoutItsFileAndNoListenerIsReset() throws Exception {
        redirectingBridge();
        try (ServerSocketChannel listener = unixListen(dir.resolve("other.sock_7006"))) {
            GuestTransport g4 = h2g.attachInMemory(4);
            try (Machine guest4 = Machine.builder().name("guest4").transport(g4).build()) {
                hybrid.bridge(4, dir.resolve("other.sock"));
                // Guest 3 has no vm.sock_7006 and nobody listens on 7006: reset, as without a bridge.
                assertThatThrownBy(() -> VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7006)))
                        .isInstanceOf(ConnectException.class).hasMessageContaining("ECONNRESET");
                try (VsockSocket s = VsockSocket.connect(guest4, VsockAddress.of(VsockAddress.CID_HOST, 7006));
                     SocketChannel accepted = listener.accept()) {
                    write(accepted, "4");
                    assertThat(s.getInputStream().read()).isEqualTo('4');
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Close

    @Test
    void closeEndsEveryThreadConnectionPortAndFile() throws Exception {
        int boundBefore = host.boundCount();
        try (VsockServerSocket server = guestListener(5000);
             ServerSocketChannel listener = unixListen(dir.resolve("vm.sock_7004"));
             SocketChannel idle = unixConnect(uds);      // still in its CONNECT line
             SocketChannel h2gClient = unixConnect(uds)) {
            write(idle, "CONN");
            write(h2gClient, "CONNECT 5000\n");
            readLine(h2gClient);
            VsockSocket guestSide = server.accept();
            await(() -> hybrid.boundPorts().contains(7004), "port 7004 bound");
            VsockSocket g2hClient = VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7004));
            SocketChannel g2hAccepted = listener.accept();
            await(() -> bridge.connectionCount() == 2, "two connections copied");
            assertThat(host.boundCount()).isGreaterThan(boundBefore);

            hybrid.close();

            assertThat(bridge.threadCount()).isZero();
            assertThat(hybrid.threadCount()).isZero();
            assertThat(bridge.connectionCount()).isZero();
            assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith("hybrid "));
            assertThat(uds).doesNotExist();
            // A closed connection keeps its port until the guest's side answered the close (as in the
            // kernel, where the port goes with the socket's last reference): wait for it, it must come.
            await(() -> host.boundCount() == boundBefore, "the host's ports released");
            assertThat(readToEnd(idle)).isEmpty();
            assertThat(readToEnd(h2gClient)).isEmpty();
            assertThat(readToEnd(g2hAccepted)).isEmpty();
            assertThat(guestSide.getInputStream().read()).isEqualTo(-1);
            await(() -> host.connectionCount() == 0, "the host's vsock connections closed");
            guestSide.close();
            g2hClient.close();
            g2hAccepted.close();
        }
        assertThatThrownBy(() -> hybrid.bridge(5, dir.resolve("late.sock"))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aSecondBridgeForTheSameGuestOrALiveSocketPathIsRefused() throws Exception {
        assertThatThrownBy(() -> hybrid.bridge(GUEST, dir.resolve("again.sock"))).hasMessageContaining("EADDRINUSE");
        assertThatThrownBy(() -> hybrid.bridge(4, uds)).hasMessageContaining("EADDRINUSE");
        assertThat(dir.resolve("again.sock")).doesNotExist();
    }

    // ------------------------------------------------------------------------------------------------

    private void assertBridgeStillWorks(VsockServerSocket server) throws Exception {
        try (SocketChannel c = unixConnect(uds)) {
            write(c, "CONNECT 5000\n");
            assertThat(readLine(c)).startsWith("OK ");
            server.accept().close();
        }
    }

    private VsockServerSocket guestListener(int port) throws IOException {
        return VsockServerSocket.bind(guest, VsockAddress.of(VsockAddress.CID_ANY, port));
    }

    private static SocketChannel unixConnect(Path p) throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(p));
    }

    private static ServerSocketChannel unixListen(Path p) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(p));
        return s;
    }

    private static void write(SocketChannel c, String s) throws IOException {
        write(c, s.getBytes(StandardCharsets.US_ASCII));
    }

    private static void write(SocketChannel c, byte[] b) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) {
            c.write(buf);
        }
    }

    /** One line without its newline, read byte by byte so nothing after it is consumed. */
    private static String readLine(SocketChannel c) throws IOException {
        StringBuilder b = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            if (c.read(one.clear()) < 0) {
                throw new IOException("EOF after '" + b + "'");
            }
            if (one.get(0) == '\n') {
                return b.toString();
            }
            b.append((char) one.get(0));
        }
    }

    private static String readN(SocketChannel c, int n) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(n);
        while (buf.hasRemaining() && c.read(buf) >= 0) {
            // until n bytes or EOF
        }
        return new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
    }

    private static String readToEnd(SocketChannel c) throws IOException {
        return new String(readToEndBytes(c), StandardCharsets.US_ASCII);
    }

    private static byte[] readToEndBytes(SocketChannel c) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        try {
            while (c.read(buf.clear()) >= 0) {
                out.write(buf.array(), 0, buf.position());
            }
        } catch (IOException e) {
            // a reset ends the stream too
        }
        return out.toByteArray();
    }

    private static byte[] readToEndUnchecked(SocketChannel c) {
        try {
            return readToEndBytes(c);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] readAll(VsockSocket s) {
        try {
            return s.getInputStream().readAllBytes();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }


}
