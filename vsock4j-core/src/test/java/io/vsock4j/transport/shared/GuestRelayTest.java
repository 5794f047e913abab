package io.vsock4j.transport.shared;

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
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A device's guests on a shared machine ({@link GuestRelay}): processes of the machine are their host.
 * The guests here are in-JVM ({@link HostTransport#attachInMemory}), as a vhost-user device's would be
 * behind the same HostTransport; the machine's daemon is a real process in a temporary rendezvous
 * directory, and the "processes" are machines joined in this JVM, each over its own link.
 */
@Timeout(60)
class GuestRelayTest {
    private static final Duration IDLE = Duration.ofMillis(500);
    private static final int GUEST = 3;

    @TempDir
    Path tmp;

    private Path dir;
    private HostTransport h2g;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void makeMachine() throws IOException {
        dir = tmp.resolve("machine");
        Rendezvous.ensurePrivate(dir);
        h2g = new HostTransport("device", false);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
        h2g.close();
        for (ProcessHandle d : ProcessHandle.current().children()
                .filter(p -> p.info().commandLine().map(c -> c.contains(dir.toString())).orElse(false)).toList()) {
            d.destroyForcibly();
            d.onExit().join();
        }
    }

    private <T extends AutoCloseable> T track(T c) {
        toClose.add(c);
        return c;
    }

    private GuestRelay relay(int... cids) throws IOException {
        List<Integer> list = new ArrayList<>();
        for (int c : cids) {
            list.add(c);
        }
        return track(GuestRelay.start(dir, IDLE, h2g, list));
    }

    /** A guest machine whose G2H is an in-memory link to the device's HostTransport. */
    private Machine guest(int cid) throws IOException {
        GuestTransport g2h = h2g.attachInMemory(cid);
        return track(Machine.builder().name("guest" + cid).transport(g2h).build());
    }

    private Machine process() throws IOException {
        return track(SharedMachine.connect(dir, IDLE));
    }

    private static String exchange(VsockSocket s, String line) throws IOException {
        s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
    }

    /** Answers one connection with "echo: LINE". */
    private static void answerOne(VsockServerSocket server) {
        Thread.ofVirtual().start(() -> {
            try (VsockSocket s = server.accept()) {
                String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
                s.getOutputStream().write(("echo from " + s.getRemoteAddress().cid() + ": " + line + "\n")
                        .getBytes(StandardCharsets.US_ASCII));
                s.shutdownOutput();
                s.getInputStream().read(); // the peer's close
            } catch (IOException e) {
                // the test's assertion on the client side says what went wrong
            }
        });
    }

    @Test
    void aProcessOfTheMachineConnectsToTheGuestAndTheGuestToAProcess() throws Exception {
        relay(GUEST);
        Machine guest = guest(GUEST);
        Machine host = process();
        assertThat(host.localCid()).as("a process of the machine is the guests' host").isEqualTo(VsockAddress.CID_HOST);

        answerOne(track(VsockServerSocket.bind(guest, VsockAddress.of(VsockAddress.CID_ANY, 5000))));
        try (VsockSocket s = VsockSocket.connect(host, VsockAddress.of(GUEST, 5000))) {
            assertThat(s.getLocalAddress().cid()).isEqualTo(VsockAddress.CID_HOST);
            assertThat(exchange(s, "from the host")).isEqualTo("echo from 2: from the host");
        }

        answerOne(track(VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 6000))));
        try (VsockSocket s = VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 6000))) {
            assertThat(exchange(s, "from the guest")).isEqualTo("echo from 3: from the guest");
        }
    }

    @Test
    void aGuestsConnectReachesWhicheverProcessListensOnThePort() throws Exception {
        relay(GUEST);
        Machine guest = guest(GUEST);
        Machine first = process();
        Machine second = process();
        answerOne(track(VsockServerSocket.bind(second, VsockAddress.of(VsockAddress.CID_ANY, 6001))));
        assertThatThrownBy(() -> VsockServerSocket.bind(first, VsockAddress.of(VsockAddress.CID_ANY, 6001)))
                .hasMessageStartingWith("EADDRINUSE"); // one port table for CID 1 and CID 2, as in the kernel
        try (VsockSocket s = VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 6001))) {
            assertThat(exchange(s, "hi")).isEqualTo("echo from 3: hi");
        }
        assertThatThrownBy(() -> VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 6002)))
                .hasMessageStartingWith("ECONNRESET"); // nobody listens: the daemon answers RST
    }

    @Test
    void aCidNoDeviceServesIsUnreachable() throws Exception {
        relay(GUEST);
        Machine host = process();
        assertThatThrownBy(() -> VsockSocket.connect(host, VsockAddress.of(4, 5000))).hasMessageStartingWith("ENODEV");
    }

    @Test
    void aServedGuestWhoseVmmIsNotConnectedAnswersWithReset() throws Exception {
        relay(GUEST);
        Machine host = process();
        assertThatThrownBy(() -> VsockSocket.connect(host, VsockAddress.of(GUEST, 5000))).hasMessageStartingWith("ECONNRESET");
    }

    @Test
    void theVmmLeavingResetsTheProcessesConnectionsToItsGuest() throws Exception {
        relay(GUEST);
        Machine guest = guest(GUEST);
        Machine host = process();
        VsockServerSocket server = track(VsockServerSocket.bind(guest, VsockAddress.of(VsockAddress.CID_ANY, 5000)));
        VsockSocket s = track(VsockSocket.connect(host, VsockAddress.of(GUEST, 5000)));
        track(server.accept());
        h2g.detach(GUEST);
        assertThatThrownBy(() -> s.getInputStream().read()).hasMessageStartingWith("ECONNRESET");
    }

    @Test
    void theDeviceLeavingMakesItsGuestsUnreachable() throws Exception {
        GuestRelay relay = relay(GUEST);
        Machine guest = guest(GUEST);
        Machine host = process();
        VsockServerSocket server = track(VsockServerSocket.bind(guest, VsockAddress.of(VsockAddress.CID_ANY, 5000)));
        VsockSocket s = track(VsockSocket.connect(host, VsockAddress.of(GUEST, 5000)));
        track(server.accept());
        relay.close();
        assertThatThrownBy(() -> s.getInputStream().read()).hasMessageStartingWith("ECONNRESET");
        assertThatThrownBy(() -> VsockSocket.connect(host, VsockAddress.of(GUEST, 5000))).hasMessageStartingWith("ENODEV");
    }

    @Test
    void whenAHostProcessDiesTheGuestsEndIsClosed() throws Exception {
        GuestRelay relay = relay(GUEST);
        Machine guest = guest(GUEST);
        SharedPeerMain.Started peer = SharedPeerMain.start(dir, "echo", 6100);
        try {
            VsockSocket s = track(VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 6100)));
            s.getOutputStream().write("hi\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(s.getInputStream().readNBytes(3), StandardCharsets.US_ASCII)).isEqualTo("hi\n");
            assertThat(relay.connectionCount()).isEqualTo(1);
            peer.process().destroyForcibly(); // no close, no RST: the daemon sees its link drop
            // The kernel closes a dead process's sockets, and the guest reads EOF (an RST reads as the
            // peer's close in virtio-vsock); without the relay's reset the read would wait forever.
            s.setSoTimeout(20_000);
            assertThat(s.getInputStream().read()).isEqualTo(-1);
            assertThat(relay.connectionCount()).isZero();
        } finally {
            peer.process().destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    @Test
    void whenTheDaemonDiesTheGuestsConnectionsEndAndTheRelayJoinsAFreshDaemon() throws Exception {
        GuestRelay relay = relay(GUEST);
        Machine guest = guest(GUEST);
        Machine host = process();
        answerOne(track(VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 6200))));
        VsockSocket s = track(VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 6200)));
        ProcessHandle daemon = ProcessHandle.of(Long.parseLong(java.nio.file.Files.readString(dir.resolve(Rendezvous.PID)).trim()))
                .orElseThrow();
        daemon.destroyForcibly();
        daemon.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
        s.setSoTimeout(20_000);
        assertThat(s.getInputStream().read()).as("the guest's end of a connection to a process of the dead machine").isEqualTo(-1);

        // A process that joins now starts a fresh daemon; the relay joins it too and serves guest 3 again.
        Machine next = process();
        VsockServerSocket guestServer = track(VsockServerSocket.bind(guest, VsockAddress.of(VsockAddress.CID_ANY, 5200)));
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (relay.downReason() != null && System.nanoTime() < deadline) {
            Thread.sleep(20); // the relay's rejoin pauses between tries
        }
        assertThat(relay.downReason()).as("the relay's link").isNull();
        long waitGuests = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!next.transport(io.vsock4j.spi.TransportRole.H2G).reaches(GUEST) && System.nanoTime() < waitGuests) {
            Thread.sleep(20); // the daemon's GUESTS frame is on its way
        }
        answerOne(guestServer);
        try (VsockSocket t = VsockSocket.connect(next, VsockAddress.of(GUEST, 5200))) {
            assertThat(exchange(t, "again")).isEqualTo("echo from 2: again");
        }
    }

    @Test
    void connectionsThatEndAreForgotten() throws Exception {
        GuestRelay relay = relay(GUEST);
        Machine guest = guest(GUEST);
        Machine host = process();
        for (int i = 0; i < 20; i++) {
            answerOne(track(VsockServerSocket.bind(guest, VsockAddress.of(VsockAddress.CID_ANY, 5100 + i))));
            try (VsockSocket s = VsockSocket.connect(host, VsockAddress.of(GUEST, 5100 + i))) {
                assertThat(exchange(s, "n" + i)).isEqualTo("echo from 2: n" + i);
            }
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
        while (relay.connectionCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10); // the closes' RSTs are on their way
        }
        assertThat(relay.connectionCount()).as("connections the relay still holds").isZero();
    }

    @Test
    void aSecondDeviceForTheSameGuestIsRefused() throws Exception {
        relay(GUEST);
        HostTransport other = new HostTransport("other", false);
        try {
            assertThatThrownBy(() -> GuestRelay.start(dir, IDLE, other, List.of(GUEST)))
                    .hasMessageStartingWith("EADDRINUSE").hasMessageContaining("guest CID 3");
            assertThatThrownBy(() -> GuestRelay.start(dir, IDLE, new HostTransport("reserved", false), List.of(2)))
                    .hasMessageStartingWith("EINVAL");
        } finally {
            other.close();
        }
    }
}
