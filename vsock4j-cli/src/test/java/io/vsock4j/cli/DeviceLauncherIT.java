package io.vsock4j.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vsock device} through the real launcher: its socket files appear once it says it is ready, its
 * hybrid socket answers (a CONNECT to a guest that is not there is closed without a reply), other
 * processes of its shared machine see its guests (a guest whose VMM is not there resets a connect, a
 * CID no device serves is ENODEV, a second device for the same CID is refused), and SIGTERM makes it
 * close everything and remove its files. No QEMU here: DeviceInGuestIT runs a guest.
 */
@Timeout(300) // the launcher's first use may build the project
class DeviceLauncherIT {
    private static final String MACHINE = "device-launcher-it-" + ProcessHandle.current().pid();

    @AfterAll
    static void removeMachineDirectory() throws Exception {
        assertThat(MachineDirectories.deleteWhenDaemonExits(MACHINE, java.time.Duration.ofSeconds(60)))
                .as("the daemon of machine %s exited after its last process left", MACHINE).isTrue();
    }

    /** Runs the launcher to its end with empty stdin; "EXIT\nSTDERR". */
    private static String run(Path launcher, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(launcher.toString(), "--machine", MACHINE));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        p.getOutputStream().close();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("vsock %s ended", args).isTrue();
        return p.exitValue() + "\n" + err;
    }

    @Test
    void socketFilesAppearAndGoAwayAtSigterm() throws Exception {
        Path dir = Files.createTempDirectory("devit");
        Path vhost3 = dir.resolve("vm3.vhost");
        Path uds3 = dir.resolve("vm3.vsock");
        Path vhost4 = dir.resolve("vm4.vhost");
        Path launcher = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath();
        Path errFile = Files.createTempFile("devit", ".err");
        Process p = new ProcessBuilder(launcher.toString(), "--machine", MACHINE, "device",
                "--vm", "guest-cid=3,socket=" + vhost3 + ",uds-path=" + uds3,
                "--vm", "guest-cid=4,socket=" + vhost4 + ",tx-buffer-size=64K,groups=default")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(errFile.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (!Files.readString(errFile).contains("vsock device: ready") && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(Files.readString(errFile)).as("stderr").contains("vsock device: ready");
            assertThat(vhost3).exists();
            assertThat(vhost4).exists();
            assertThat(uds3).exists();
            try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(uds3))) {
                c.write(ByteBuffer.wrap("connect 5000\n".getBytes(StandardCharsets.US_ASCII)));
                assertThat(c.read(ByteBuffer.allocate(16))).as("no guest: closed, no reply").isEqualTo(-1);
            }

            assertThat(run(launcher, "nc", "3", "5000")).as("a served guest whose VMM is not connected")
                    .startsWith("1\n").contains("ECONNRESET");
            assertThat(run(launcher, "nc", "9", "5000")).as("a CID no device serves").startsWith("1\n").contains("ENODEV");
            assertThat(run(launcher, "device", "--vm", "guest-cid=4,socket=" + dir.resolve("other.vhost")))
                    .as("a second device for guest 4").startsWith("1\n").contains("EADDRINUSE", "guest CID 4");

            p.destroy(); // SIGTERM
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            List<String> err = Files.readAllLines(errFile, StandardCharsets.UTF_8);
            assertThat(err).as("stderr").contains("vsock device: stopping", "vsock device: stopped")
                    .anyMatch(l -> l.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  vhost-user backend listening on .*vm3.vhost"))
                    .noneMatch(l -> l.contains("Exception"));
            try (var left = Files.list(dir)) {
                assertThat(left.toList()).as("socket files removed").isEmpty();
            }
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(vhost3);
            Files.deleteIfExists(vhost4);
            Files.deleteIfExists(uds3);
            Files.deleteIfExists(dir);
            Files.deleteIfExists(errFile);
        }
    }
}
