package io.vsock4j.cli.proxy;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.link.HostTransport;
import io.vsock4j.transport.vhostuser.VhostUserVsock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * {@link ProxyRelayCases} across vsock4j's vhost-user device and a real guest kernel: the proxies' machine
 * is this JVM's host machine whose H2G transport is the device for guest {@link #GUEST_CID}, booted by
 * guest/run.sh --vhost-user-vsock. The TCP-to-vsock proxy dials the guest's port 5000, where socat relays
 * each connection back to the host's port 7000, the vsock-to-TCP proxy (src/test/guest/proxy-device-guest.sh):
 * <pre>
 * client -> TCP-to-vsock proxy -> device -> guest kernel -> socat -> guest kernel -> device -> vsock-to-TCP proxy -> server
 * </pre>
 * so half-close (SHUTDOWN through the device and socat's shutdown in the guest) and backpressure (the
 * guest's credit on one leg, this JVM's on the other) are checked on the device both ways. One guest boot
 * for all cases; no JVM runs in the guest. An IT like the module's other guest tests, for a fork and a
 * time limit of its own, though it does not run the launcher. Nothing opens a kernel AF_VSOCK socket on
 * this machine: the device is Unix sockets and shared memory, the guest's kernel does the vsock.
 */
class ProxyDeviceInGuestIT extends ProxyRelayCases {
    private static final int GUEST_CID = 3;
    private static final int GUEST_RELAY_PORT = 5000;
    private static final int GUEST_TIMEOUT_SECONDS = 600;
    private static Machine host;
    private static VhostUserVsock device;
    private static Process guest;
    private static Path output;

    @BeforeAll
    @Timeout(240)
    static void bootGuest() throws Exception {
        Path root = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath().normalize().getParent();
        Path dir = Files.createDirectories(Path.of("target", "proxy-device-guest").toAbsolutePath());
        Path socket = dir.resolve("vm3.sock");
        Files.deleteIfExists(socket);
        HostTransport h2g = new HostTransport("vhost-user", false);
        host = Machine.builder().name("host").transport(h2g).build();
        device = VhostUserVsock.start(h2g, GUEST_CID, socket);
        try (VsockServerSocket ready = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 6999))) {
            output = dir.resolve("guest-output.log");
            ProcessBuilder run = new ProcessBuilder(root.resolve("guest/run.sh").toString(), "--timeout", "" + GUEST_TIMEOUT_SECONDS,
                    "--vhost-user-vsock", socket.toString(), "--share", dir.toString(), "--",
                    "bash", Path.of("src", "test", "guest", "proxy-device-guest.sh").toAbsolutePath().toString(), dir.toString())
                    .redirectErrorStream(true).redirectOutput(output.toFile());
            // No JVM in this guest, so the JIT crashes that made single-threaded TCG the default do not
            // apply; with one host thread per vCPU socat's two ends run side by side.
            run.environment().put("VSOCK4J_GUEST_TCG_THREAD", "multi");
            guest = run.start();
            CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
                try (VsockSocket s = ready.accept()) {
                    return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, r -> Thread.ofPlatform().daemon().start(r));
            // The guest says "ready" once socat listens, or run.sh ends without it (boot failed).
            guest.onExit().thenRun(() -> line.complete("guest exited " + guest.exitValue()));
            String said = line.get(180, TimeUnit.SECONDS);
            if (!said.equals("ready 1")) {
                fail("the guest did not get ready (" + said + "):\n" + Files.readString(output));
            }
        }
    }

    @AfterAll
    @Timeout(120)
    static void powerOff() throws Exception {
        try {
            if (guest != null && guest.isAlive()) {
                // Connecting to 5999 tells the guest the tests are over: it powers off.
                try (VsockSocket gate = VsockSocket.connect(host, VsockAddress.of(GUEST_CID, 5999))) {
                    gate.shutdownOutput();
                } catch (IOException e) {
                    guest.destroy();
                }
                if (!guest.waitFor(60, TimeUnit.SECONDS)) {
                    guest.destroyForcibly();
                    fail("the guest did not power off; its output:\n" + Files.readString(output));
                }
                assertThat(guest.exitValue()).as(Files.readString(output)).isZero();
            }
        } finally {
            if (device != null) {
                device.close();
            }
            if (host != null) {
                host.close();
            }
        }
    }

    @Override
    Machine newMachine() {
        return host;
    }

    /** The host machine and its device serve every case: the guest is booted once. */
    @Override
    void release(Machine m) {
    }

    @Override
    VsockAddress relayed() {
        return VsockAddress.of(GUEST_CID, GUEST_RELAY_PORT);
    }

    /**
     * 200, not 1,000: across the device each connection forks a socat in the emulated guest and crosses
     * the device four times (1,000 took 66 s), and a leak per connection shows in 200 as in 1,000.
     */
    @Override
    int leakCheckConnections() {
        return 200;
    }

    /** The machine serves the other cases: kept open (its timer is in the baseline). */
    @Override
    boolean leakCheckClosesMachine() {
        return false;
    }
}
