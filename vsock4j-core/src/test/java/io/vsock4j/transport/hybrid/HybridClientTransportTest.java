package io.vsock4j.transport.hybrid;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.vsock4j.transport.hybrid.InJvmHybridGuest.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link HybridClientTransport} end to end in one JVM, against the project's own host side of hybrid
 * vsock ({@link InJvmHybridGuest}): guest 3 is a machine on an in-memory link of a HostTransport, and
 * {@link HybridHost} exposes it on a Unix socket exactly as Firecracker would (CONNECT/OK,
 * {@code <uds>_P} for its dials to the host).
 * A separate client machine, whose only transport is the hybrid client with {@code 3 -> that socket},
 * then uses the ordinary socket API: every byte crosses client engine -> Unix socket -> bridge -> guest
 * engine and back.
 */
@Timeout(60)
class HybridClientTransportTest {
    private static final int GUEST = 3;
    private static final java.util.concurrent.Executor ASYNC = task -> Thread.ofVirtual().start(task);

    private InJvmHybridGuest vm;
    private Path dir;
    private Machine guest;
    private HybridHost vmm;
    private HybridClientTransport transport;
    private Machine client;

    @BeforeEach
    void start() throws IOException {
        vm = new InJvmHybridGuest(GUEST);
        dir = vm.dir;
        guest = vm.guest;
        vmm = vm.hybrid;
        transport = new HybridClientTransport(Map.of(GUEST, vm.uds));
        client = Machine.builder().name("client").transport(transport).build();
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        assertThat(transport.threadCount()).as("threads of the client transport after close").isZero();
        vm.close();
    }

    @Test
    void severalMebibytesCrossBothWaysAtOnceAndHalfClosesPassBothWays() throws Exception {
        long seed = System.nanoTime();
        System.out.println("HybridClientTransportTest seed " + seed);
        Random random = new Random(seed);
        byte[] upload = new byte[(4 << 20) + random.nextInt(1 << 16)];
        byte[] download = new byte[(3 << 20) + random.nextInt(1 << 16)];
        random.nextBytes(upload);
        random.nextBytes(download);
        try (VsockServerSocket server = guestListener(5000);
             VsockSocket s = VsockSocket.connect(client, VsockAddress.of(GUEST, 5000));
             VsockSocket accepted = server.accept()) {
            assertThat(s.getRemoteAddress()).isEqualTo(VsockAddress.of(GUEST, 5000));
            CompletableFuture<byte[]> guestRead = CompletableFuture.supplyAsync(() -> digestToEnd(accepted), ASYNC);
            CompletableFuture<byte[]> clientRead = CompletableFuture.supplyAsync(() -> digestToEnd(s), ASYNC);
            CompletableFuture<Void> guestWrite = CompletableFuture.runAsync(() -> writeAndShut(accepted, download), ASYNC);
            writeAndShut(s, upload); // the client's SHUT_WR reaches the guest as EOF ...
            assertThat(guestRead.get(30, TimeUnit.SECONDS)).isEqualTo(sha256(upload));
            guestWrite.get(30, TimeUnit.SECONDS); // ... while the guest can still send, then shuts its side too
            assertThat(clientRead.get(30, TimeUnit.SECONDS)).isEqualTo(sha256(download));
        }
        awaitNoConnections();
    }

    @Test
    void theGuestMayHalfCloseFirst() throws Exception {
        try (VsockServerSocket server = guestListener(5000);
             VsockSocket s = VsockSocket.connect(client, VsockAddress.of(GUEST, 5000));
             VsockSocket accepted = server.accept()) {
            writeAndShut(accepted, "banner".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("banner");
            writeAndShut(s, "still open".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(accepted.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("still open");
        }
        awaitNoConnections();
    }

    @Test
    void aSlowJavaReaderHoldsTheGuestBackByCredit() throws Exception {
        byte[] data = new byte[64 << 20];
        new Random(7).nextBytes(data);
        AtomicLong sent = new AtomicLong();
        try (VsockServerSocket server = guestListener(5000);
             VsockSocket s = VsockSocket.connect(client, VsockAddress.of(GUEST, 5000));
             VsockSocket accepted = server.accept()) {
            CompletableFuture<Void> guestWrite = CompletableFuture.runAsync(() -> {
                try (var out = accepted.getOutputStream()) {
                    for (int off = 0; off < data.length; off += 1 << 16) {
                        out.write(data, off, 1 << 16);
                        sent.addAndGet(1 << 16);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, ASYNC);
            int buffer = Math.toIntExact(s.getOption(VsockOptions.BUFFER_SIZE));
            await(() -> available(s) >= buffer, "the client's receive buffer filled");
            // Nobody reads: the client holds one buffer, the Unix sockets and the bridge a few more, the rest waits in the guest.
            assertThat(available(s)).isLessThanOrEqualTo(buffer);
            assertThat(sent.get()).isLessThan(data.length / 2);
            assertThat(guestWrite).isNotDone();
            assertThat(digestToEnd(s)).isEqualTo(sha256(data));
            guestWrite.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void noGuestListenerIsEconnresetAndUnknownCidsEnodev() {
        assertThatThrownBy(() -> VsockSocket.connect(client, VsockAddress.of(GUEST, 6000)))
                .isInstanceOf(ConnectException.class).hasMessageContaining("ECONNRESET");
        assertThatThrownBy(() -> VsockSocket.connect(client, VsockAddress.of(4, 6000))).hasMessageContaining("ENODEV");
        assertThat(transport.supports(SocketType.SEQPACKET)).isFalse();
        assertThat(client.connectionCount()).isZero();
    }

    @Test
    void theGuestDialsHostPortPAndReachesTheClientsListenerThroughUdsUnderscoreP() throws Exception {
        Path file = dir.resolve("vm.sock_7000");
        try (VsockServerSocket listener = VsockServerSocket.bind(client, VsockAddress.of(VsockAddress.CID_ANY, 7000))) {
            assertThat(file).exists();
            await(() -> vm.bridge.unixPorts().contains(7000), "the VMM side saw vm.sock_7000");
            try (VsockSocket g = VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7000));
                 VsockSocket a = listener.accept()) {
                assertThat(a.getRemoteAddress().cid()).isEqualTo(GUEST);
                assertThat(a.getLocalAddress()).isEqualTo(VsockAddress.of(VsockAddress.CID_HOST, 7000));
                writeAndShut(g, "from the guest".getBytes(StandardCharsets.US_ASCII));
                assertThat(new String(a.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("from the guest");
                writeAndShut(a, "from the client".getBytes(StandardCharsets.US_ASCII));
                assertThat(new String(g.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("from the client");
            }
        }
        assertThat(file).doesNotExist();
        awaitNoConnections();
    }

    @Test
    void aLiveSocketFileOfAnotherListenerMakesListenFailWithEaddrinuse() throws Exception {
        try (var other = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            other.bind(java.net.UnixDomainSocketAddress.of(dir.resolve("vm.sock_7001")));
            assertThatThrownBy(() -> VsockServerSocket.bind(client, VsockAddress.of(VsockAddress.CID_ANY, 7001)))
                    .hasMessageContaining("EADDRINUSE");
            assertThat(client.boundCount()).isZero();
        }
    }

    @Test
    void closingTheMachineEndsEveryConnectionThreadAndFile() throws Exception {
        try (VsockServerSocket server = guestListener(5000)) {
            VsockSocket s = VsockSocket.connect(client, VsockAddress.of(GUEST, 5000));
            VsockSocket accepted = server.accept();
            VsockServerSocket.bind(client, VsockAddress.of(VsockAddress.CID_ANY, 7002));
            assertThat(dir.resolve("vm.sock_7002")).exists();
            assertThat(transport.connectionCount()).isEqualTo(1);
            client.close();
            assertThat(transport.threadCount()).isZero();
            assertThat(transport.connectionCount()).isZero();
            assertThat(dir.resolve("vm.sock_7002")).doesNotExist();
            assertThat(accepted.getInputStream().read()).isEqualTo(-1); // the bridge saw the Unix socket close
            s.close();
            accepted.close();
        }
    }

    // ------------------------------------------------------------------------------------------------

    private void awaitNoConnections() throws InterruptedException {
        await(() -> transport.connectionCount() == 0 && client.connectionCount() == 0, "every connection ended");
        await(() -> transport.threadCount() == 1, "only the delivery thread left");
    }

    private VsockServerSocket guestListener(int port) throws IOException {
        return VsockServerSocket.bind(guest, VsockAddress.of(VsockAddress.CID_ANY, port));
    }

    private static int available(VsockSocket s) {
        try {
            return s.available();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeAndShut(VsockSocket s, byte[] data) {
        try {
            s.getOutputStream().write(data);
            s.shutdownOutput();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] digestToEnd(VsockSocket s) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            InputStream in = s.getInputStream();
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) >= 0; ) {
                md.update(buf, 0, n);
            }
            return md.digest();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

}
