package io.vsock4j.cli;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two {@code vsock} processes on the Java loopback, meeting on a shared machine ({@code --transport
 * shared}, a per-user daemon): nc in both directions, and the conformance suite split into
 * {@code --mode server} and {@code --mode client}. Each test joins a machine of its own name.
 */
class SharedMachineLauncherIT {
    private static final Path LAUNCHER = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath();

    private static String machineName(String test) {
        return "cli-it-" + test + "-" + ProcessHandle.current().pid();
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
            Process client = vsock(machine, "nc", "1", "5000").redirectInput(toServer.toFile())
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
}
