package io.vsock4j.cli.proxy;

import io.vsock4j.cli.Stdio;
import io.vsock4j.cli.VsockCommand;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vsock proxy}'s command line: a destination the allowlist does not admit is refused before anything
 * listens (exit 1, one line), and the option mistakes are usage errors (exit 2, one line).
 */
@Timeout(30)
class ProxyCommandTest {
    @TempDir
    Path dir;

    private Machine machine;
    private Path config;
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws IOException {
        machine = Machines.loopback();
        config = dir.resolve("allow.yaml");
        Files.writeString(config, "allowlist:\n- {address: 127.0.0.1, port: 9000}\n");
    }

    @AfterEach
    void stop() {
        machine.close();
    }

    private int vsock(String... args) {
        Stdio stdio = new Stdio(new ByteArrayInputStream(new byte[0]), OutputStream.nullOutputStream(),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return VsockCommand.execute(stdio, (choice, name) -> machine, args);
    }

    private String errLines() {
        return err.toString(StandardCharsets.UTF_8);
    }

    /** The command refuses HOST:PORT before it listens: exit 1 and exactly {@code line} on stderr. */
    private void refusedAtStartUp(String host, int port, String line) {
        assertThat(vsock("proxy", "--config", config.toString(), "8000", host, String.valueOf(port))).isEqualTo(VsockCommand.EXIT_FAILURE);
        assertThat(errLines()).isEqualTo(line + "\n");
        assertThat(machine.boundCount()).as("nothing listens").isZero();
    }

    @Test
    void anUnlistedPortIsRefusedAtStartUpAndNothingListens() {
        refusedAtStartUp("127.0.0.1", 9001, "vsock proxy: 127.0.0.1:9001 is not on the allowlist of " + config
                + " (no entry has port 9001)");
    }

    @Test
    void anUnlistedAddressIsRefusedAtStartUpAndNothingListens() {
        refusedAtStartUp("127.0.0.2", 9000, "vsock proxy: 127.0.0.2:9000 is not on the allowlist of " + config
                + " (no entry with port 9000 stands for 127.0.0.2)");
    }

    @Test
    void aMissingOrBrokenConfigIsOneLine() throws IOException {
        assertThat(vsock("proxy", "--config", dir.resolve("absent.yaml").toString(), "8000", "127.0.0.1", "9000"))
                .isEqualTo(VsockCommand.EXIT_FAILURE);
        Files.writeString(config, "allowlist:\n- {address: 127.0.0.1}\n");
        assertThat(vsock("proxy", "--config", config.toString(), "8000", "127.0.0.1", "9000")).isEqualTo(VsockCommand.EXIT_FAILURE);
        assertThat(errLines().lines()).containsExactly(
                "vsock proxy: --config " + dir.resolve("absent.yaml") + ": no such file (want vsock-proxy's YAML allowlist)",
                "vsock proxy: --config " + config + ": allowlist entry 1 has no port 0..65535 (port: null)");
    }

    @Test
    void optionMistakesAreUsageErrors() {
        assertThat(vsock("proxy", "8000")).isEqualTo(VsockCommand.EXIT_USAGE);
        assertThat(vsock("proxy", "--tcp-listen", "8080")).isEqualTo(VsockCommand.EXIT_USAGE);
        assertThat(vsock("proxy", "--tcp-listen", "::1:8080", "--to", "3:80")).isEqualTo(VsockCommand.EXIT_USAGE);
        assertThat(vsock("proxy", "--tcp-listen", "8080", "--to", "3:80", "--config", config.toString())).isEqualTo(VsockCommand.EXIT_USAGE);
        assertThat(vsock("proxy", "--to", "3:80", "8000", "127.0.0.1", "9000")).isEqualTo(VsockCommand.EXIT_USAGE);
        assertThat(vsock("proxy", "-4", "-6", "8000", "127.0.0.1", "9000")).isEqualTo(VsockCommand.EXIT_USAGE);
        assertThat(vsock("proxy", "-w", "0", "8000", "127.0.0.1", "9000")).isEqualTo(VsockCommand.EXIT_USAGE);
        assertThat(vsock("proxy", "8000", "127.0.0.1", "70000")).isEqualTo(VsockCommand.EXIT_USAGE);
        assertThat(errLines().lines()).hasSize(8).allSatisfy(l -> assertThat(l).startsWith("vsock proxy: ").endsWith("(see 'vsock proxy --help')"));
        assertThat(machine.boundCount()).isZero();
    }
}
