package io.vsock4j.transport.vhostuser;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.testing.Cleanup;
import io.vsock4j.testing.QemuGuest;
import io.vsock4j.transport.link.HostTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Sibling VMs on one device process, with three real guests: guest 3 (group blue) and guest 4 (groups
 * blue and yellow) share a group, guest 5 (red) shares none. Guest 4's ncat listens; guest 5's ncat
 * connects to it first and must fail as Linux fails a connect whose packets its host drops (ETIMEDOUT,
 * the guest kernel's connect timeout: vhost frees a guest packet not addressed to the host, and
 * vhost-device-vsock drops one across groups); then guest 3's ncat connects and its line arrives. Each
 * guest's kernel has only the virtio transport, so it sends every CID to the device, as an L1 guest
 * without vhost does. The guests act when the JVM tells them (a control port on CID 2, see
 * src/test/guest/siblings.sh), so guest 5 tries while guest 4 listens, and nothing waits on a clock.
 * Nothing here opens a kernel AF_VSOCK socket on this machine.
 */
class VhostUserSiblingsInGuestTest {
    private static final int GUEST_TIMEOUT_SECONDS = 300;
    private static final int PORT = 5000;
    private static final int CONTROL_PORT = 7000;
    private static final int IN_GROUP = 3;
    private static final int LISTENER = 4;
    private static final int OUTSIDER = 5;

    @RegisterExtension
    final Cleanup cleanup = new Cleanup();
    private final CompletableFuture<Void> listening = new CompletableFuture<>();
    /** What each client guest reported: "STATUS STDERR" of its ncat. */
    private final Map<Integer, CompletableFuture<String>> results = Map.of(
            IN_GROUP, new CompletableFuture<>(), OUTSIDER, new CompletableFuture<>());
    private final Map<Integer, String> controlErrors = new ConcurrentHashMap<>();

    @Test
    @Timeout(GUEST_TIMEOUT_SECONDS + 120)
    void aGuestReachesASiblingOfItsGroupAndOneOutsideTheGroupTimesOut() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "device-siblings").toAbsolutePath());
        for (String f : List.of("listener.out", "listener.err")) {
            Files.deleteIfExists(dir.resolve(f));
        }
        HostTransport h2g = new HostTransport("vhost-user", true);
        Machine host = Machine.builder().name("host").transport(h2g).build();
        cleanup.close(host);
        for (var vm : Map.of(IN_GROUP, Set.of("blue"), LISTENER, Set.of("blue", "yellow"), OUTSIDER, Set.of("red")).entrySet()) {
            cleanup.close(VhostUserVsock.start(h2g, vm.getKey(), dir.resolve("vm" + vm.getKey() + ".sock"), vm.getValue()));
        }
        VsockServerSocket control = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, CONTROL_PORT));
        cleanup.close(control);
        Thread.ofPlatform().daemon().name("siblings-control").start(() -> serveControl(control));

        String script = Path.of("src", "test", "guest", "siblings.sh").toAbsolutePath().toString();
        String port = Integer.toString(PORT);
        String controlPort = Integer.toString(CONTROL_PORT);
        Process listener = boot(dir, LISTENER, "bash", script, "listener", dir.toString(), port, controlPort);
        Process inGroup = boot(dir, IN_GROUP, "bash", script, "client", dir.toString(), port, controlPort,
                Integer.toString(LISTENER), "guest 3");
        Process outsider = boot(dir, OUTSIDER, "bash", script, "client", dir.toString(), port, controlPort,
                Integer.toString(LISTENER), "guest 5");
        long droppedBefore = h2g.droppedPackets();

        for (var guest : Map.of(LISTENER, listener, IN_GROUP, inGroup, OUTSIDER, outsider).entrySet()) {
            Path log = dir.resolve("vm" + guest.getKey() + ".log");
            if (!guest.getValue().waitFor(GUEST_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                fail("guest " + guest.getKey() + " did not finish; its output is in " + log);
            }
            assertThat(guest.getValue().exitValue()).as("guest %d's run.sh; its output:%n%s", guest.getKey(),
                    Files.readString(log)).isZero();
        }
        assertThat(controlErrors).as("control connections").isEmpty();
        String outsiderResult = results.get(OUTSIDER).getNow("(no report)");
        assertThat(outsiderResult).as("guest 5's ncat, outside guest 4's groups")
                .startsWith("1 ").containsIgnoringCase("timed out");
        assertThat(results.get(IN_GROUP).getNow("(no report)")).as("guest 3's ncat, in guest 4's group").isEqualTo("0");
        assertThat(Files.readString(dir.resolve("listener.out"))).isEqualTo("hello from guest 3\n");
        assertThat(Files.readString(dir.resolve("listener.err"))).as("guest 4's ncat -v")
                .contains("Connection from " + IN_GROUP).doesNotContain("Connection from " + OUTSIDER);
        assertThat(h2g.droppedPackets()).as("guest 5's request, dropped by the device").isGreaterThan(droppedBefore);
        System.out.println("siblings: guest 5 got '" + outsiderResult.strip() + "'; guest 4 accepted guest 3; "
                + (h2g.droppedPackets() - droppedBefore) + " packet(s) dropped");
    }

    private Process boot(Path dir, int cid, String... command) throws IOException {
        Process p = QemuGuest.withDevice(dir.resolve("vm" + cid + ".sock"), dir, "vm" + cid, GUEST_TIMEOUT_SECONDS, "512M", command);
        cleanup.process(p);
        return p;
    }

    /** The JVM's side of siblings.sh: one line in, one line out, per connection. */
    private void serveControl(VsockServerSocket control) {
        while (true) {
            VsockSocket s;
            try {
                s = control.accept();
            } catch (IOException closed) {
                return;
            }
            Thread.ofVirtual().start(() -> answer(s));
        }
    }

    private void answer(VsockSocket s) {
        int cid = s.getRemoteAddress().cid();
        try (s) {
            String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            String reply;
            if (cid == LISTENER && "ready".equals(line)) {
                listening.complete(null);
                reply = "ok";
            } else if (cid == OUTSIDER && "waiting".equals(line)) {
                listening.get(GUEST_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                reply = "go"; // guest 4 listens: a connect that reached it would be accepted
            } else if (cid == IN_GROUP && "waiting".equals(line)) {
                results.get(OUTSIDER).get(GUEST_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                reply = "go"; // only after guest 5's try, so guest 4's one accept is not taken by guest 3 first
            } else if (results.containsKey(cid) && line != null && line.startsWith("result ")) {
                results.get(cid).complete(line.substring("result ".length()).strip());
                reply = "ok";
            } else {
                controlErrors.put(cid, "unexpected line '" + line + "'");
                reply = "error";
            }
            s.getOutputStream().write((reply + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (Exception e) {
            controlErrors.put(cid, e.toString());
        }
    }
}
