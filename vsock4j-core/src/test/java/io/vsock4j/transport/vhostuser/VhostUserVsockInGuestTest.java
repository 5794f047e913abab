package io.vsock4j.transport.vhostuser;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSeqpacketServerSocket;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.testing.QemuGuest;
import io.vsock4j.transport.link.HostTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A real guest kernel on vsock4j's vhost-user-vsock device: this JVM builds a host machine whose H2G
 * transport is a {@link HostTransport} with one {@link VhostUserVsock} (guest CID 3), boots the project's
 * QEMU guest with {@code vhost-user-vsock-pci} on the device's socket (guest/run.sh --vhost-user-vsock),
 * and the guest's ncat, socat and Python talk to this JVM's sockets: 100 MB each way over STREAM with
 * SHA-256 on both ends, SEQPACKET messages of many sizes echoed whole, 100 connections at once, socat's
 * echo. The guest's side is src/test/guest/device-in-guest.sh. Nothing here opens a kernel AF_VSOCK socket on this machine: the
 * guest's kernel does the vsock, and its packets reach this JVM over a Unix socket and shared memory.
 */
class VhostUserVsockInGuestTest {
    private static final int GUEST_TIMEOUT_SECONDS = 600;
    private static final int GUEST_CID = 3;
    private static final long BYTES = 100L << 20;
    private static Machine host;
    private static VhostUserVsock device;
    private static final List<Thread> servers = new ArrayList<>();
    private static final List<AutoCloseable> listeners = new ArrayList<>();
    private static final Map<String, String> jvm = new ConcurrentHashMap<>();
    private static final Map<String, String> guest = new TreeMap<>();
    private static String log;

    @BeforeAll
    @Timeout(GUEST_TIMEOUT_SECONDS + 180)
    static void runGuest() throws Exception {
        Path root = QemuGuest.repositoryRoot();
        Path dir = Files.createDirectories(Path.of("target", "device-guest").toAbsolutePath());
        Path socket = dir.resolve("vm3.sock");
        Path results = dir.resolve("results.txt");
        Files.deleteIfExists(results);
        HostTransport h2g = new HostTransport("vhost-user", false);
        host = Machine.builder().name("host").transport(h2g).build();
        device = VhostUserVsock.start(h2g, GUEST_CID, socket);
        serve();
        Path script = Path.of("src", "test", "guest", "device-in-guest.sh").toAbsolutePath();
        Path output = dir.resolve("guest-output.log");
        Process p = new ProcessBuilder(root.resolve("guest/run.sh").toString(), "--timeout", "" + GUEST_TIMEOUT_SECONDS,
                "--vhost-user-vsock", socket.toString(), "--share", dir.toString(), "--",
                "bash", script.toString(), dir.toString(), Long.toString(BYTES))
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!p.waitFor(GUEST_TIMEOUT_SECONDS + 120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("guest/run.sh did not return; output in " + output);
        }
        log = Files.readString(output);
        if (!Files.exists(results)) {
            fail("the guest wrote no results (run.sh exit " + p.exitValue() + "):\n" + log);
        }
        for (String line : Files.readAllLines(results, StandardCharsets.UTF_8)) {
            int space = line.indexOf(' ');
            guest.put(space < 0 ? line : line.substring(0, space), space < 0 ? "" : line.substring(space + 1).strip());
        }
        // A measurement, not an assertion (timed tests lie on these machines): docs/benchmarks.md has the method.
        System.out.printf("device-in-guest: %d MiB by ncat, guest->JVM %s s, JVM->guest %s s, guest loopback (CID 1) %s s%n",
                BYTES >> 20, guest.get("to_host_seconds"), guest.get("from_host_seconds"), guest.get("loopback_seconds"));
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : listeners) {
            c.close();
        }
        for (Thread t : servers) {
            t.join(10_000);
        }
        if (device != null) {
            device.close();
        }
        if (host != null) {
            host.close();
        }
    }

    /** The JVM's side of device-in-guest.sh, one thread per port. */
    private static void serve() throws IOException {
        VsockServerSocket upload = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 6001));
        VsockServerSocket control = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 6000));
        VsockSeqpacketServerSocket seqpacket = VsockSeqpacketServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 6003));
        VsockServerSocket echo = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 6004));
        VsockServerSocket concurrent = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 6005));
        listeners.addAll(List.of(upload, control, seqpacket, echo, concurrent));
        server("upload", () -> {
            try (VsockSocket s = upload.accept()) {
                jvm.put("upload_peer", s.getRemoteAddress().toString());
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                long total = 0;
                byte[] buf = new byte[64 * 1024];
                InputStream in = s.getInputStream();
                for (int n; (n = in.read(buf)) > 0; ) {
                    sha.update(buf, 0, n);
                    total += n;
                }
                jvm.put("upload_bytes", Long.toString(total));
                s.getOutputStream().write((HexFormat.of().formatHex(sha.digest()) + "\n").getBytes(StandardCharsets.US_ASCII));
            }
        });
        server("download", () -> {
            String line;
            try (VsockSocket s = control.accept()) {
                line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            }
            int port = Integer.parseInt(line.substring("ready ".length()));
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            Random random = new Random(20261202);
            byte[] buf = new byte[64 * 1024];
            long start = System.nanoTime();
            try (VsockSocket s = VsockSocket.connect(host, VsockAddress.of(GUEST_CID, port))) {
                OutputStream out = s.getOutputStream();
                for (long left = BYTES; left > 0; left -= buf.length) {
                    random.nextBytes(buf);
                    int n = (int) Math.min(buf.length, left);
                    sha.update(buf, 0, n);
                    out.write(buf, 0, n);
                }
            }
            jvm.put("download_seconds", String.format("%.2f", (System.nanoTime() - start) / 1e9));
            jvm.put("download_sha", HexFormat.of().formatHex(sha.digest()));
        });
        server("seqpacket echo", () -> {
            try (VsockSeqpacketSocket s = seqpacket.accept()) {
                byte[] buf = new byte[70_000];
                int messages = 0;
                for (int n; (n = s.receive(buf)) >= 0; messages++) {
                    s.send(buf, 0, n, 0);
                }
                jvm.put("seqpacket_messages", Integer.toString(messages));
            }
        });
        server("concurrent", () -> {
            // One virtual thread per connection, as a server would; counts what each connection sent.
            try (var perConnection = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 100; i++) {
                    VsockSocket s = concurrent.accept();
                    perConnection.submit(() -> {
                        try (s) {
                            long n = s.getInputStream().transferTo(OutputStream.nullOutputStream());
                            s.getOutputStream().write((n + "\n").getBytes(StandardCharsets.US_ASCII));
                        }
                        return null;
                    });
                }
            }
        });
        server("stream echo", () -> {
            try (VsockSocket s = echo.accept()) {
                s.getInputStream().transferTo(s.getOutputStream());
            }
        });
    }

    private interface Body {
        void run() throws Exception;
    }

    private static void server(String name, Body body) {
        Thread t = Thread.ofPlatform().name("guest test " + name).daemon().start(() -> {
            try {
                body.run();
            } catch (Exception e) {
                jvm.put(name + " failed", e.toString());
            }
        });
        servers.add(t);
    }

    @Test
    void theGuestHasTheCidTheDeviceGaveIt() {
        assertThat(guest).as(log).containsEntry("guest_cid", Integer.toString(GUEST_CID)).containsKey("done");
    }

    @Test
    void aHundredMegabytesFromTheGuestsNcatArriveIntact() {
        assertThat(guest.get("to_host_exit")).as(guest.get("to_host_stderr")).isEqualTo("0");
        assertThat(jvm).as("JVM side").doesNotContainKey("upload failed").containsEntry("upload_bytes", Long.toString(BYTES));
        assertThat(jvm.get("upload_peer")).startsWith(GUEST_CID + ":");
        assertThat(guest.get("host_answer")).as("the SHA-256 the JVM read").isEqualTo(guest.get("to_host_sha")).hasSize(64);
    }

    @Test
    void aHundredMegabytesFromTheJvmReachTheGuestsNcatIntact() {
        assertThat(jvm).as("JVM side").doesNotContainKey("download failed");
        assertThat(guest.get("from_host_exit")).isEqualTo("0");
        assertThat(guest.get("from_host_bytes")).isEqualTo(Long.toString(BYTES));
        assertThat(guest.get("from_host_sha")).isEqualTo(jvm.get("download_sha")).hasSize(64);
    }

    @Test
    void seqpacketMessagesFromPythonComeBackWhole() {
        assertThat(guest).as(log).containsEntry("seqpacket_echoed", "200").doesNotContainKey("seqpacket_mismatch");
        assertThat(jvm).doesNotContainKey("seqpacket echo failed").containsEntry("seqpacket_messages", "200");
    }

    @Test
    void aHundredConcurrentConnectionsAllProgress() {
        assertThat(guest).as(log).containsEntry("concurrent_ok", "100").doesNotContainKey("concurrent_bad");
        assertThat(jvm).doesNotContainKey("concurrent failed");
    }

    @Test
    void socatReachesAJvmListener() {
        assertThat(guest.get("socat_echo")).isEqualTo("hello through socat");
    }
}
