package io.vsock4j.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two {@code vsock} processes on the Java loopback, meeting on a shared machine ({@code --transport
 * shared}, a per-user daemon): nc in both directions, and the conformance suite split into
 * {@code --mode server} and {@code --mode client}. Each test joins a machine of its own name.
 */
@Timeout(300) // the launcher's first use may build the project
class SharedMachineLauncherIT {
    private static final Path LAUNCHER = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath();

    /** The machines this class joined; their directories go when their daemons have exited. */
    private static final Set<String> MACHINES = ConcurrentHashMap.newKeySet();

    private static String machineName(String test) {
        String name = "cli-it-" + test + "-" + ProcessHandle.current().pid();
        MACHINES.add(name);
        return name;
    }

    @AfterAll
    static void removeMachineDirectories() throws Exception {
        for (String machine : MACHINES) {
            assertThat(MachineDirectories.deleteWhenDaemonExits(machine, Duration.ofSeconds(60)))
                    .as("the daemon of machine %s exited after its last process left", machine).isTrue();
        }
    }

    private static ProcessBuilder vsock(String machine, String... args) {
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString(), "--transport", "shared", "--machine", machine));
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    @Test
    void twoNcProcessesExchangeTenMegabytesEachWay() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "shared-nc").toAbsolutePath());
        Path toServer = dir.resolve("to-server");
        Path toClient = dir.resolve("to-client");
        Path serverGot = dir.resolve("server-got");
        Path clientGot = dir.resolve("client-got");
        Path clientErr = dir.resolve("client-err");
        byte[] data = new byte[10 << 20];
        new Random(11).nextBytes(data);
        Files.write(toServer, data);
        new Random(12).nextBytes(data);
        Files.write(toClient, data);
        String machine = machineName("nc");

        Process server = vsock(machine, "nc", "-l", "5000").redirectInput(toClient.toFile())
                .redirectOutput(serverGot.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        int clientExit = -1;
        for (int attempt = 0; attempt < 60; attempt++) {
            // --no-shutdown: the listener ends at the client's EOF (ncat's rule), which must wait for its bytes.
            Process client = vsock(machine, "nc", "--no-shutdown", "1", "5000").redirectInput(toServer.toFile())
                    .redirectOutput(clientGot.toFile()).redirectError(clientErr.toFile()).start();
            assertThat(client.waitFor(120, TimeUnit.SECONDS)).isTrue();
            clientExit = client.exitValue();
            // Until the listener is up, the connect is reset; anything else is the answer.
            if (!Files.readString(clientErr).contains("ECONNRESET")) {
                break;
            }
            Thread.sleep(250);
        }
        assertThat(clientExit).as(Files.readString(clientErr)).isZero();
        assertThat(server.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(server.exitValue()).isZero();
        assertThat(sha256(serverGot)).isEqualTo(sha256(toServer));
        assertThat(sha256(clientGot)).isEqualTo(sha256(toClient));
        assertThat(Files.readString(clientErr)).isEmpty();
    }

    @Test
    void theSuiteRunsSplitAcrossTwoProcesses() throws Exception {
        int controlPort;
        try (ServerSocket s = new ServerSocket(0)) {
            controlPort = s.getLocalPort();
        }
        String machine = machineName("suite");
        File serverOut = Path.of("target", "shared-suite-server.txt").toFile();
        File clientOut = Path.of("target", "shared-suite-client.txt").toFile();
        Process server = vsock(machine, "test", "--mode", "server", "--control-port", "" + controlPort)
                .redirectOutput(serverOut).redirectErrorStream(true).start();
        Process client = vsock(machine, "test", "--mode", "client", "--peer-cid", "1", "--control-port", "" + controlPort)
                .redirectOutput(clientOut).redirectErrorStream(true).start();
        assertThat(client.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(server.waitFor(60, TimeUnit.SECONDS)).isTrue();
        for (File out : List.of(serverOut, clientOut)) {
            List<String> lines = Files.readAllLines(out.toPath(), StandardCharsets.UTF_8);
            assertThat(lines).as(out.getName()).isNotEmpty();
            assertThat(lines.getLast()).as(String.join("\n", lines)).matches("\\d+ passed, 0 failed");
            assertThat(Integer.parseInt(lines.getLast().split(" ")[0])).isGreaterThanOrEqualTo(20);
        }
        assertThat(client.exitValue()).isZero();
        assertThat(server.exitValue()).isZero();
    }

    /** Runs one launcher client with {@code input} on stdin, retrying while the listener is not up yet. */
    private static String client(String machine, String input, String... args) throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "shared-nc-clients").toAbsolutePath());
        Path in = Files.writeString(dir.resolve("in"), input);
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        for (int attempt = 0; attempt < 60; attempt++) {
            Process c = vsock(machine, args).redirectInput(in.toFile()).redirectOutput(out.toFile())
                    .redirectError(err.toFile()).start();
            assertThat(c.waitFor(60, TimeUnit.SECONDS)).isTrue();
            if (c.exitValue() == 0) {
                return Files.readString(out);
            }
            assertThat(Files.readString(err)).as("only a listener that is not up yet may fail the client").contains("ECONNRESET");
            Thread.sleep(250);
        }
        throw new AssertionError("the listener never came up: " + Files.readString(err));
    }

    private static String awaitOutput(Path file, String expected) throws Exception {
        for (int i = 0; i < 500 && !Files.readString(file).equals(expected); i++) {
            Thread.sleep(10);
        }
        return Files.readString(file);
    }

    @Test
    void keepOpenExecAndSeqpacketThroughTheLauncher() throws Exception {
        String machine = machineName("nc-modes");
        Path dir = Files.createDirectories(Path.of("target", "shared-nc-modes").toAbsolutePath());

        // -k: one listener serves three clients in a row, and is still there afterwards.
        Path keptOut = dir.resolve("kept-out");
        Process kept = vsock(machine, "nc", "-l", "-k", "5100").redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(keptOut.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        // --exec: each connection gets its own command with stdin and stdout on the socket.
        Process exec = vsock(machine, "nc", "-l", "-k", "--exec", "tr a-z A-Z", "5101")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        // --seqpacket: one message per line, boundaries kept.
        Path seqOut = dir.resolve("seq-out");
        Process seq = vsock(machine, "nc", "-l", "--seqpacket", "5102").redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(seqOut.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            for (String line : List.of("first\n", "second\n", "third\n")) {
                assertThat(client(machine, line, "nc", "1", "5100")).isEmpty();
            }
            assertThat(awaitOutput(keptOut, "first\nsecond\nthird\n")).isEqualTo("first\nsecond\nthird\n");
            assertThat(kept.isAlive()).as("-k listener still running").isTrue();

            assertThat(client(machine, "hello\n", "nc", "1", "5101")).isEqualTo("HELLO\n");
            assertThat(client(machine, "again\n", "nc", "1", "5101")).isEqualTo("AGAIN\n");

            assertThat(client(machine, "a\nbb\n\nccc\n", "nc", "--seqpacket", "1", "5102")).isEmpty();
            assertThat(seq.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(seq.exitValue()).isZero();
            // Three messages (an empty line sends nothing, as Linux sends nothing for a zero-length message).
            assertThat(Files.readString(seqOut)).isEqualTo("a\nbb\nccc\n");
        } finally {
            kept.destroy();
            exec.destroy();
            seq.destroy();
        }
    }
}
