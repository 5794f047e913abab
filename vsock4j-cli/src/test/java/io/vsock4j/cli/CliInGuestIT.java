package io.vsock4j.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The launcher on the kernel's AF_VSOCK, inside the project's QEMU guest (guest/run.sh, vsock_loopback
 * loaded): two {@code vsock nc} processes exchange 10 MB each way over CID 1 (src/test/guest/cli-in-guest.sh).
 * vsock nc against ncat is {@link NcRulesInGuestIT}'s part; the conformance suite on the kernel is the
 * conformance module's ConformanceTest, and {@code vsock test} itself is checked on the host by CliLauncherIT.
 */
class CliInGuestIT {
    private static final int GUEST_TIMEOUT_SECONDS = 600;
    private static Path results;

    @BeforeAll
    @Timeout(GUEST_TIMEOUT_SECONDS * 3 + 180) // the guest under TCG, up to three runs (--retry-jvm-crash 2)
    static void runInGuest() throws Exception {
        Path launcher = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath().normalize();
        Path root = launcher.getParent();
        results = Path.of("target", "cli-guest").toAbsolutePath();
        Files.createDirectories(results);
        Files.deleteIfExists(results.resolve("nc.txt"));
        Path log = results.resolve("guest-output.log");
        Path script = Path.of("src", "test", "guest", "cli-in-guest.sh").toAbsolutePath();
        Process p = new ProcessBuilder(root.resolve("guest/run.sh").toString(), "--retry-jvm-crash", "2", "--timeout", "" + GUEST_TIMEOUT_SECONDS,
                "--share", results.toString(),
                "--env", GuestLauncher.INTERPRETED,
                "--", "bash", script.toString(), launcher.toString(), results.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(GUEST_TIMEOUT_SECONDS + 120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("guest/run.sh did not return; output in " + log);
        }
        if (!Files.exists(results.resolve("nc.txt"))) {
            fail("the guest wrote no results (run.sh exit " + p.exitValue() + "):\n" + Files.readString(log));
        }
    }

    private static Map<String, String> ncResults() throws IOException {
        return keyValues("nc.txt");
    }

    private static Map<String, String> keyValues(String file) throws IOException {
        Map<String, String> values = new HashMap<>();
        for (String line : Files.readAllLines(results.resolve(file), StandardCharsets.UTF_8)) {
            int space = line.indexOf(' ');
            values.put(line.substring(0, space), line.substring(space + 1).strip());
        }
        return values;
    }

    @Test
    void twoNcProcessesExchangeTenMegabytesEachWayOverTheKernel() throws Exception {
        Map<String, String> nc = ncResults();
        assertThat(nc.get("client_exit")).as(nc.get("stderr")).isEqualTo("0");
        assertThat(nc.get("server_exit")).as(nc.get("stderr")).isEqualTo("0");
        assertThat(nc.get("server_got")).isEqualTo(nc.get("to_server")).hasSize(64);
        assertThat(nc.get("client_got")).isEqualTo(nc.get("to_client")).hasSize(64);
        assertThat(nc.get("stderr")).isEmpty();
    }
}
