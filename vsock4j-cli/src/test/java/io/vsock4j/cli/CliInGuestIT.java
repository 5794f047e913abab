package io.vsock4j.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The launcher on the kernel's AF_VSOCK, inside the project's QEMU guest (guest/run.sh, vsock_loopback
 * loaded): two {@code vsock nc} processes exchange 10 MB each way over CID 1, and {@code vsock test}
 * runs the conformance suite against the kernel. One guest boot for both (src/test/guest/cli-in-guest.sh).
 */
class CliInGuestIT {
    private static final int GUEST_TIMEOUT_SECONDS = 600;
    private static Path results;

    @BeforeAll
    static void runInGuest() throws Exception {
        Path launcher = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath().normalize();
        Path root = launcher.getParent();
        results = Path.of("target", "cli-guest").toAbsolutePath();
        Files.createDirectories(results);
        Files.deleteIfExists(results.resolve("nc.txt"));
        Files.deleteIfExists(results.resolve("test.txt"));
        Files.deleteIfExists(results.resolve("interop.txt"));
        Path log = results.resolve("guest-output.log");
        Path script = Path.of("src", "test", "guest", "cli-in-guest.sh").toAbsolutePath();
        Process p = new ProcessBuilder(root.resolve("guest/run.sh").toString(), "--retry-jvm-crash", "2", "--timeout", "" + GUEST_TIMEOUT_SECONDS,
                "--share", results.toString(), "--", "bash", script.toString(), launcher.toString(), results.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(GUEST_TIMEOUT_SECONDS + 120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("guest/run.sh did not return; output in " + log);
        }
        if (!Files.exists(results.resolve("test.txt"))) {
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

    @Test
    void vsockNcAndNcatExchangeDataBothWaysOverTheKernel() throws Exception {
        Map<String, String> r = keyValues("interop.txt");
        assertThat(r.get("vsock_client_exit")).as(r.get("stderr")).isEqualTo("0");
        assertThat(r.get("ncat_listener_exit")).isEqualTo("0");
        assertThat(r.get("ncat_got")).as("vsock nc -> ncat -l").isEqualTo(r.get("sent")).hasSize(64);
        assertThat(r.get("ncat_client_exit")).isEqualTo("0");
        assertThat(r.get("vsock_listener_exit")).as(r.get("stderr")).isEqualTo("0");
        assertThat(r.get("vsock_got")).as("ncat -> vsock nc -l").isEqualTo(r.get("sent"));
    }

    /**
     * Every case passes on the kernel, except that Debian 12's kernel (6.1) cannot peek SEQPACKET
     * messages: that case may fail, and then only with EOPNOTSUPP.
     */
    @Test
    void theConformanceSuitePassesOnTheKernel() throws Exception {
        List<String> lines = Files.readAllLines(results.resolve("test.txt"), StandardCharsets.UTF_8);
        String all = String.join("\n", lines);
        List<String> verdicts = lines.stream().filter(l -> l.startsWith("PASS ") || l.startsWith("FAIL ")).toList();
        assertThat(verdicts).as(all).hasSizeGreaterThanOrEqualTo(20);
        List<String> failures = verdicts.stream().filter(l -> l.startsWith("FAIL ")).toList();
        assertThat(failures).as(all).allMatch(l -> l.contains("seqpacket: MSG_PEEK") && l.contains("EOPNOTSUPP"));
        int passed = verdicts.size() - failures.size();
        assertThat(lines).as(all).contains(passed + " passed, " + failures.size() + " failed",
                "exit " + (failures.isEmpty() ? 0 : 1));
    }
}
