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
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The VMM killed under the device: a real guest's ncat streams zeros into a JVM socket, this test kills
 * QEMU with SIGKILL mid-transfer, and the JVM's blocked read must fail with ECONNRESET at once (the
 * backend sees the vhost-user socket close, the device's link goes down, the H2G transport resets the
 * guest's connections, as vhost_vsock_reset_orphans does). The device keeps listening, and a second
 * guest booted on the same socket exchanges a line with the JVM. Nothing here opens a kernel AF_VSOCK
 * socket on this machine.
 */
class VhostUserVsockRestartInGuestTest {
    private static final int GUEST_TIMEOUT_SECONDS = 300;
    private static final int GUEST_CID = 3;
    private static final int STREAM_PORT = 6101;
    private static final int LINE_PORT = 6102;
    /** Bytes the JVM reads before the kill: the transfer is surely under way. */
    private static final long BEFORE_KILL_BYTES = 4L << 20;

    @RegisterExtension
    final Cleanup cleanup = new Cleanup();

    @Test
    @Timeout(2 * GUEST_TIMEOUT_SECONDS + 120)
    void killingQemuResetsTheGuestsConnectionsAndASecondGuestIsServed() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "device-restart").toAbsolutePath());
        Path socket = dir.resolve("vm3.sock");
        Files.deleteIfExists(dir.resolve("answer.txt"));
        HostTransport h2g = new HostTransport("vhost-user", false);
        Machine host = Machine.builder().name("host").transport(h2g).build();
        cleanup.close(host);
        VhostUserVsock device = VhostUserVsock.start(h2g, GUEST_CID, socket);
        cleanup.close(device);
        VsockServerSocket streamServer = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, STREAM_PORT));
        cleanup.close(streamServer);
        streamServer.setSoTimeout(GUEST_TIMEOUT_SECONDS * 1000);

        Process first = boot(socket, dir, "first", "head -c 2G /dev/zero | ncat --vsock 2 " + STREAM_PORT);
        VsockSocket s = streamServer.accept();
        cleanup.close(s);
        assertThat(s.getRemoteAddress().cid()).isEqualTo(GUEST_CID);
        AtomicLong received = new AtomicLong();
        CountDownLatch underWay = new CountDownLatch(1);
        CompletableFuture<Long> failedAt = CompletableFuture.supplyAsync(() -> readUntilFailure(s, received, underWay));
        assertThat(underWay.await(GUEST_TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("4 MiB from the guest").isTrue();

        ProcessHandle qemu = qemuOn(socket);
        long killedAt = System.nanoTime();
        assertThat(qemu.destroyForcibly()).isTrue();
        long failedNanos;
        try {
            failedNanos = failedAt.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError("the JVM's read", e.getCause());
        }
        double latencySeconds = (failedNanos - killedAt) / 1e9;
        System.out.printf("ECONNRESET %.3f s after SIGKILL to QEMU, %d bytes read before%n", latencySeconds, received.get());
        assertThat(readFailure).hasMessageStartingWith("ECONNRESET");
        assertThat(latencySeconds).as("seconds from the kill to the failed read").isLessThan(5.0);
        assertThat(first.waitFor(60, TimeUnit.SECONDS)).as("run.sh ends with its QEMU").isTrue();
        assertThat(h2g.guestCids()).isEmpty();

        try (TestFrontend probe = TestFrontend.connect(socket)) {
            probe.sync(); // the device still listens and answers
        }

        VsockServerSocket lineServer = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, LINE_PORT));
        cleanup.close(lineServer);
        lineServer.setSoTimeout(GUEST_TIMEOUT_SECONDS * 1000);
        Path answer = dir.resolve("answer.txt");
        Process second = boot(socket, dir, "second",
                "echo 'hello from the second guest' | ncat --vsock 2 " + LINE_PORT + " > " + answer);
        String line;
        try (VsockSocket t = lineServer.accept()) {
            line = new BufferedReader(new InputStreamReader(t.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            t.getOutputStream().write("hello from the JVM\n".getBytes(StandardCharsets.US_ASCII));
        }
        assertThat(line).isEqualTo("hello from the second guest");
        if (!second.waitFor(GUEST_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            fail("the second guest did not finish; output in " + dir.resolve("second.log"));
        }
        assertThat(second.exitValue()).as(Files.readString(dir.resolve("second.log"))).isZero();
        assertThat(Files.readString(answer)).isEqualTo("hello from the JVM\n");
    }

    private volatile IOException readFailure;

    /** Reads until the socket fails; returns System.nanoTime() of the failure. */
    private long readUntilFailure(VsockSocket s, AtomicLong received, CountDownLatch underWay) {
        byte[] buf = new byte[64 * 1024];
        try {
            InputStream in = s.getInputStream();
            for (int n; (n = in.read(buf)) > 0; ) {
                if (received.addAndGet(n) >= BEFORE_KILL_BYTES) {
                    underWay.countDown();
                }
            }
            throw new IllegalStateException("the stream ended without an error after " + received.get() + " bytes");
        } catch (IOException e) {
            long at = System.nanoTime();
            readFailure = e;
            return at;
        }
    }

    private Process boot(Path socket, Path dir, String name, String command) throws IOException {
        Process p = QemuGuest.withDevice(socket, dir, name, GUEST_TIMEOUT_SECONDS, "2G", "bash", "-c", command);
        cleanup.process(p);
        return p;
    }

    /** The QEMU serving the device's socket (run.sh's own shell names the socket too, but is no QEMU). */
    private static ProcessHandle qemuOn(Path socket) {
        List<ProcessHandle> found = ProcessHandle.allProcesses()
                .filter(h -> h.info().command().orElse("").contains("qemu-system"))
                .filter(h -> h.info().commandLine().orElse("").contains(socket.toString()))
                .toList();
        assertThat(found).as("QEMU processes on %s", socket).hasSize(1);
        return found.getFirst();
    }
}
