package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.testing.Blocked;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A guest machine in another JVM process, linked over a Unix domain socket: data flows both ways, and
 * killing either process gives the other ECONNRESET, not a hang, in calls blocked at the time (on
 * platform threads of their own while the test thread kills the peer) and in calls made after.
 */
@Timeout(60)
class CrossProcessTest {
    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private Process peer;

    @AfterEach
    void stop() throws Exception {
        if (peer != null) {
            peer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T track(T c) {
        toClose.add(c);
        return c;
    }

    /** Starts LinkPeerMain in a new JVM and waits for its READY line; returns the CID it printed. */
    private int startPeer(String mode, Path socket) throws IOException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        peer = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                LinkPeerMain.class.getName(), mode, socket.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertThat(line).as("peer's first line").startsWith("READY ");
        return Integer.parseInt(line.substring(6).trim());
    }

    /** Echo round trip of {@code bytes} random bytes through {@code s}. */
    private static void roundTrip(VsockSocket s, int bytes) throws Exception {
        byte[] data = new byte[bytes];
        new Random(bytes).nextBytes(data);
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                s.getOutputStream().write(data);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(s.getInputStream().readNBytes(bytes)).isEqualTo(data);
        writer.join();
    }

    @Test
    void aGuestProcessTalksBothWaysAndItsDeathResetsTheHostsConnections() throws Exception {
        Path socket = dir.resolve("host.sock");
        HostTransport h2g = new HostTransport("test-host", false);
        Machine host = track(Machine.builder().name("test-host").transport(h2g).build());
        track(UnixLinkServer.serve(socket, h2g, 3));
        VsockServerSocket hostEchoWanted = track(VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 7000)));
        hostEchoWanted.setSoTimeout(100);

        int cid = startPeer("guest", socket);
        assertThat(cid).isEqualTo(3);
        // The guest knows its CID once it answered the hello; the host attaches it a moment later,
        // when it has read that answer. Wait for the host's own view before dialling the guest.
        awaitAttached(h2g, cid);

        // Host to guest: 4 MiB through the guest's echo, both directions of the link in use at once.
        VsockSocket s = track(VsockSocket.connect(host, VsockAddress.of(cid, LinkPeerMain.GUEST_ECHO_PORT)));
        roundTrip(s, 4 << 20);

        // A second connection blocks in read while the guest process dies.
        VsockSocket idle = track(VsockSocket.connect(host, VsockAddress.of(cid, LinkPeerMain.GUEST_ECHO_PORT)));
        roundTrip(idle, 10);
        Thread killer = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(200);
                peer.destroyForcibly();
            } catch (InterruptedException ignored) {
                // The test ended first.
            }
        });
        assertThatThrownBy(() -> idle.getInputStream().read()).hasMessageStartingWith("ECONNRESET");
        killer.join();
        assertThat(peer.waitFor(10, TimeUnit.SECONDS)).isTrue();
        // The reset walks every connection of the link; the one we read from may be first.
        for (int i = 0; i < 200 && host.connectionCount(h2g) > 0; i++) {
            Thread.sleep(10);
        }
        assertThat(host.connectionCount(h2g)).isZero();
        assertThatThrownBy(() -> VsockSocket.connect(host, VsockAddress.of(cid, LinkPeerMain.GUEST_ECHO_PORT)))
                .hasMessageStartingWith("ENODEV");
    }

    /** Waits for the host's own view of guest {@code cid}: it attaches the guest when it has read the hello's answer. */
    private static void awaitAttached(HostTransport h2g, int cid) throws InterruptedException {
        for (int i = 0; i < 500 && !h2g.reaches(cid); i++) {
            Thread.sleep(10);
        }
        assertThat(h2g.reaches(cid)).as("host attached guest %d", cid).isTrue();
    }

    @Test
    void killingTheGuestProcessMidTransferEndsABlockedWriteAndABlockedReadWithEconnreset() throws Exception {
        Path socket = dir.resolve("host.sock");
        HostTransport h2g = new HostTransport("test-host", false);
        Machine host = track(Machine.builder().name("test-host").transport(h2g).build());
        track(UnixLinkServer.serve(socket, h2g, 3));
        int cid = startPeer("guest", socket);
        awaitAttached(h2g, cid);

        // We never read the echo: it stops on our buffer, then stops reading, and our writer stops on credit.
        VsockSocket bulk = track(VsockSocket.connect(host, VsockAddress.of(cid, LinkPeerMain.GUEST_ECHO_PORT)));
        VsockSocket quiet = track(VsockSocket.connect(host, VsockAddress.of(cid, LinkPeerMain.GUEST_ECHO_PORT)));
        Blocked.Call writer = Blocked.start("host-writer", () -> bulk.getOutputStream().write(new byte[4 << 20]))
                .awaitParkedIn("send");
        Blocked.Call reader = Blocked.start("host-reader", () -> quiet.getInputStream().read()).awaitParkedIn("receive");

        peer.destroyForcibly(); // SIGKILL: its end of the link just breaks
        assertThat(peer.waitFor(10, TimeUnit.SECONDS)).isTrue();
        // No socket has a timeout: a call that returns at all was woken by the link going down.
        assertThat(writer.end(Duration.ofSeconds(20))).as("the write blocked on credit").isInstanceOf(SocketException.class)
                .hasMessageStartingWith("ECONNRESET");
        assertThat(reader.end(Duration.ofSeconds(20))).as("the blocked read").isInstanceOf(SocketException.class)
                .hasMessageStartingWith("ECONNRESET");

        // The host serves the next guest process on the same socket as if nothing had happened.
        int next = startPeer("guest", socket);
        awaitAttached(h2g, next);
        roundTrip(track(VsockSocket.connect(host, VsockAddress.of(next, LinkPeerMain.GUEST_ECHO_PORT))), 1 << 20);
    }

    @Test
    void aHostProcessServesThisGuestAndItsDeathResetsTheGuestsConnections() throws Exception {
        Path socket = dir.resolve("child-host.sock");
        startPeer("host", socket);
        GuestTransport g2h = UnixLinks.connectGuest(socket);
        Machine guest = track(Machine.builder().name("test-guest").transport(g2h).build());
        assertThat(guest.localCid()).isEqualTo(3);

        VsockSocket s = track(VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, LinkPeerMain.HOST_ECHO_PORT)));
        roundTrip(s, 4 << 20);

        peer.destroyForcibly();
        assertThatThrownBy(() -> s.getInputStream().read()).hasMessageStartingWith("ECONNRESET");
        // EOF or ECONNRESET on the Unix socket, depending on timing; either way the peer did it.
        assertThat(g2h.downReason()).isNotNull().doesNotContain("closed here");
        // A write says what happened too: the link was reset. (It said EPIPE "peer shut down receiving"
        // before, which hid the reset from a writer whose write was cut short by it.)
        assertThatThrownBy(() -> s.getOutputStream().write(1)).hasMessageStartingWith("ECONNRESET");
        // No host any more: a new connect fails at once rather than timing out.
        assertThatThrownBy(() -> VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, LinkPeerMain.HOST_ECHO_PORT)))
                .hasMessageStartingWith("ENODEV");
    }
}
