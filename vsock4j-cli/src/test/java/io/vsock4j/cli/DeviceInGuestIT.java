package io.vsock4j.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * {@code vsock device} with a real guest kernel and programs nobody here wrote: the launcher runs the
 * device with hybrid vsock on the host, QEMU boots the project's guest with vhost-user-vsock-pci on the
 * device's socket (guest/run.sh --vhost-user-vsock), and
 * <ul>
 *   <li>guest to host: the guest's ncat connects to (2, 6000), which the device joins to the Unix socket
 *       {@code UDS_6000} where {@code socat UNIX-LISTEN} listens;</li>
 *   <li>host to guest: socat sends {@code CONNECT 5000} on {@code UDS}, reads {@code OK <n>}, and
 *       exchanges a line with the guest's {@code ncat --vsock -l 5000};</li>
 *   <li>the guest's host is a shared machine of this user ({@code --machine}): {@code vsock nc 3 5001}
 *       in another process exchanges a line with the guest's ncat, and the guest's ncat reaches
 *       {@code vsock nc -l 7000}, a third process, at (2, 7000);</li>
 *   <li>vsock4j's hybrid client against the device's hybrid socket, the path a Firecracker guest is
 *       reached by: {@code vsock nc --hybrid 3=UDS 3 5003} sends 1 MiB to the guest's ncat, and the
 *       guest's ncat sends 1 MiB to host port 7100, where {@code vsock nc --hybrid 3=UDS -l 7100} serves
 *       {@code UDS_7100}; SHA-256 on both ends.</li>
 * </ul>
 * The guest's side is src/test/guest/device-in-guest.sh. No kernel AF_VSOCK socket is opened on this
 * machine: the guest's kernel does the vsock, and the host side is Unix sockets.
 */
class DeviceInGuestIT {
    private static final int GUEST_TIMEOUT_SECONDS = 600;
    private static final Map<String, String> guest = new HashMap<>();
    private static Process device;
    private static Path dir;
    private static String readyLine;
    private static String socatOutput;
    private static int socatExit;
    private static String log;
    private static String deviceErr;
    private static final String MACHINE = "device-it-" + ProcessHandle.current().pid();
    private static Process ncListener;
    private static Process socatListener;
    private static Process hybridListener;
    private static int hybridSendExit;
    private static String ncListenerOut;
    private static String ncClientOut;
    private static int ncClientExit;

    @BeforeAll
    @Timeout(GUEST_TIMEOUT_SECONDS + 300)
    static void runGuest() throws Exception {
        Path launcher = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath().normalize();
        Path root = launcher.getParent();
        dir = Files.createDirectories(Path.of("target", "device-guest").toAbsolutePath());
        Path vhost = dir.resolve("vm3.vhost");
        Path uds = dir.resolve("vm3.vsock");
        Path results = dir.resolve("results.txt");
        Path deviceLog = dir.resolve("device.err");
        for (Path p : new Path[] {vhost, uds, results, dir.resolve("hybrid-in.bin"), dir.resolve("vm3.vsock_6000"), dir.resolve("vm3.vsock_7100")}) {
            Files.deleteIfExists(p);
        }
        // socat listens on vm3.vsock_6000 before the device starts, so the bridge finds the file at once.
        socatListener = new ProcessBuilder("socat", "-u", "UNIX-LISTEN:" + dir.resolve("vm3.vsock_6000"), "-")
                .redirectErrorStream(true).start();
        CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> readAll(socatListener.getInputStream()),
                r -> Thread.ofVirtual().start(r));
        long socketDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(dir.resolve("vm3.vsock_6000")) && socatListener.isAlive() && System.nanoTime() < socketDeadline) {
            Thread.sleep(20);
        }
        assertThat(dir.resolve("vm3.vsock_6000")).as("socat's listening socket").exists();
        device = new ProcessBuilder(launcher.toString(), "--machine", MACHINE, "device", "--vm",
                "guest-cid=3,socket=" + vhost + ",uds-path=" + uds)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(deviceLog.toFile()).start();
        awaitLine(deviceLog, "vsock device: ready", device);
        // Another process of the shared machine, for the guest's connect to (2, 7000).
        Path listenerErr = dir.resolve("nc-listener.err");
        ncListener = new ProcessBuilder(launcher.toString(), "--transport", "shared", "--machine", MACHINE, "nc", "-v", "-l", "7000")
                .redirectError(listenerErr.toFile()).start();
        ncListener.getOutputStream().close();
        CompletableFuture<String> fromListener = CompletableFuture.supplyAsync(() -> readAll(ncListener.getInputStream()),
                r -> Thread.ofVirtual().start(r));
        awaitLine(listenerErr, "listening on", ncListener);
        // The hybrid client listening for the guest: it serves vm3.vsock_7100, which the device's bridge
        // finds and joins host port 7100 of guest 3 to.
        Path hybridErr = dir.resolve("hybrid-listener.err");
        hybridListener = new ProcessBuilder(launcher.toString(), "nc", "--hybrid", "3=" + uds, "-v", "-l", "7100")
                .redirectOutput(dir.resolve("up.bin").toFile()).redirectError(hybridErr.toFile()).start();
        hybridListener.getOutputStream().close();
        awaitLine(hybridErr, "listening on", hybridListener);

        Path script = Path.of("src", "test", "guest", "device-in-guest.sh").toAbsolutePath();
        Path output = dir.resolve("guest-output.log");
        Process qemu = new ProcessBuilder(root.resolve("guest/run.sh").toString(), "--timeout", "" + GUEST_TIMEOUT_SECONDS,
                "--vhost-user-vsock", vhost.toString(), "--share", dir.toString(), "--",
                "bash", script.toString(), dir.toString())
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();

        // Guest to host: the guest says it listens, through host port 6000 and vm3.vsock_6000.
        readyLine = ready.get(GUEST_TIMEOUT_SECONDS, TimeUnit.SECONDS).strip();

        // Host to guest: socat through the hybrid socket. Its input stays open until the guest's answer
        // came back: ncat --sh-exec ends the connection at the socket's EOF, before its child answered.
        Process socat = new ProcessBuilder("socat", "-t", "30", "-", "UNIX-CONNECT:" + uds).redirectErrorStream(true).start();
        socat.getOutputStream().write("CONNECT 5000\nhello from socat\n".getBytes(StandardCharsets.US_ASCII));
        socat.getOutputStream().flush();
        java.io.BufferedReader answer = new java.io.BufferedReader(new java.io.InputStreamReader(socat.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder got = new StringBuilder();
        for (int i = 0; i < 2; i++) {
            String line = answer.readLine();
            if (line == null) {
                break;
            }
            got.append(line).append('\n');
        }
        socat.getOutputStream().close();
        got.append(new String(socat.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        socatOutput = got.toString();
        assertThat(socat.waitFor(60, TimeUnit.SECONDS)).isTrue();
        socatExit = socat.exitValue();

        // Host to guest from a third process of the shared machine: vsock nc 3 5001.
        Process nc = new ProcessBuilder(launcher.toString(), "--transport", "shared", "--machine", MACHINE, "nc", "3", "5001")
                .redirectError(dir.resolve("nc-client.err").toFile()).start();
        // As with socat: stdin stays open until the answer is back (ncat --sh-exec ends at the socket's EOF).
        nc.getOutputStream().write("hello from vsock nc\n".getBytes(StandardCharsets.US_ASCII));
        nc.getOutputStream().flush();
        java.io.BufferedReader ncAnswer = new java.io.BufferedReader(new java.io.InputStreamReader(nc.getInputStream(), StandardCharsets.UTF_8));
        String ncLine = ncAnswer.readLine();
        nc.getOutputStream().close();
        ncClientOut = (ncLine == null ? "" : ncLine + "\n") + readAll(nc.getInputStream());
        assertThat(nc.waitFor(60, TimeUnit.SECONDS)).isTrue();
        ncClientExit = nc.exitValue();
        ncListenerOut = fromListener.get(60, TimeUnit.SECONDS);
        assertThat(ncListener.waitFor(60, TimeUnit.SECONDS)).as("vsock nc -l 7000 ends at the guest's EOF").isTrue();
        // The hybrid client to the guest: 1 MiB through the device's hybrid socket.
        byte[] down = new byte[1 << 20];
        new java.util.Random(5003).nextBytes(down);
        Files.write(dir.resolve("down.bin"), down);
        Process hybridSend = new ProcessBuilder(launcher.toString(), "nc", "--hybrid", "3=" + uds, "3", "5003")
                .redirectInput(dir.resolve("down.bin").toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("hybrid-send.log").toFile()).start();
        assertThat(hybridSend.waitFor(120, TimeUnit.SECONDS)).as("vsock nc --hybrid 3=UDS 3 5003 ended").isTrue();
        hybridSendExit = hybridSend.exitValue();
        assertThat(hybridListener.waitFor(60, TimeUnit.SECONDS)).as("vsock nc --hybrid -l 7100 ends at the guest's EOF").isTrue();
        // The host has what it wanted: the guest may power off (its listener on 5002 is the gate).
        Process gate = new ProcessBuilder(launcher.toString(), "--transport", "shared", "--machine", MACHINE, "nc", "3", "5002")
                .redirectErrorStream(true).start();
        gate.getOutputStream().close();
        String gateOut = readAll(gate.getInputStream());
        assertThat(gate.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(gate.exitValue()).as("vsock nc 3 5002: " + gateOut).isZero();

        if (!qemu.waitFor(GUEST_TIMEOUT_SECONDS + 120, TimeUnit.SECONDS)) {
            qemu.destroyForcibly();
            fail("guest/run.sh did not return; output in " + output);
        }
        log = Files.readString(output);
        if (Files.exists(results)) {
            for (String line : Files.readAllLines(results, StandardCharsets.UTF_8)) {
                int space = line.indexOf(' ');
                guest.put(space < 0 ? line : line.substring(0, space), space < 0 ? "" : line.substring(space + 1).strip());
            }
        }
        device.destroy();
        device.waitFor(30, TimeUnit.SECONDS);
        deviceErr = Files.readString(deviceLog);
    }

    @AfterAll
    static void stop() throws Exception {
        for (Process p : new Process[] {device, ncListener, socatListener, hybridListener}) {
            if (p != null) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
        assertThat(MachineDirectories.deleteWhenDaemonExits(MACHINE, java.time.Duration.ofSeconds(60)))
                .as("the daemon of machine %s exited after its last process left", MACHINE).isTrue();
    }

    /** Waits until {@code file} has {@code text} (a process says it is ready), while {@code p} lives. */
    private static void awaitLine(Path file, String text, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (!Files.readString(file).contains(text) && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(Files.readString(file)).as(file.toString()).contains(text);
    }

    private static String readAll(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void theGuestReachesAHostUnixSocketThroughHostPort6000() {
        assertThat(readyLine).isEqualTo("ready 5000");
        assertThat(guest).as(log).containsEntry("ready_exit", "0").containsKey("done");
    }

    @Test
    void socatReachesTheGuestsNcatWithConnect5000() {
        assertThat(socatExit).as(socatOutput).isZero();
        assertThat(socatOutput).matches("OK \\d+\nguest got: hello from socat\n");
        assertThat(guest).as(log).containsEntry("listener_exit", "0");
    }

    @Test
    void anotherProcessOfTheSharedMachineReachesTheGuestWithVsockNc() {
        assertThat(ncClientExit).as("vsock nc 3 5001; its output: " + ncClientOut).isZero();
        assertThat(ncClientOut).isEqualTo("guest got: hello from vsock nc\n");
        assertThat(guest).as(log).containsEntry("listener2_exit", "0");
    }

    @Test
    void theGuestReachesAVsockNcListenerInAnotherProcess() {
        assertThat(guest).as(log).containsEntry("shared_exit", "0");
        assertThat(ncListenerOut).isEqualTo("hello from the guest\n");
        assertThat(ncListener.exitValue()).isZero();
    }

    @Test
    void theHybridClientReachesTheGuestThroughTheDevicesHybridSocketBothWays() throws Exception {
        assertThat(hybridSendExit).as(Files.readString(dir.resolve("hybrid-send.log"))).isZero();
        assertThat(guest).as(log).containsEntry("hybrid_in_exit", "0");
        byte[] sent = Files.readAllBytes(dir.resolve("down.bin"));
        byte[] arrived = Files.readAllBytes(dir.resolve("hybrid-in.bin"));
        assertThat(Arrays.mismatch(sent, arrived))
                .as("first byte where what the guest's ncat got (%d bytes, SHA-256 %s) differs from the %d bytes sent",
                        arrived.length, guest.get("hybrid_in_sha256"), sent.length)
                .isEqualTo(-1);
        assertThat(guest).as(log).containsEntry("up_exit", "0");
        assertThat(sha256(Files.readAllBytes(dir.resolve("up.bin")))).as("what vsock nc --hybrid -l 7100 got")
                .isEqualTo(guest.get("up_sha256"));
        assertThat(hybridListener.exitValue()).isZero();
    }

    private static String sha256(byte[] data) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(data));
    }

    @Test
    void theDeviceLoggedTheVmmAndTheGuestAndRemovedItsSocketsAtSigterm() {
        assertThat(deviceErr).contains("frontend connected on", "guest running (features", "vsock device: stopped");
        assertThat(dir.resolve("vm3.vhost")).doesNotExist();
        assertThat(dir.resolve("vm3.vsock")).doesNotExist();
    }
}
