package io.vsock4j.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Differential test of when a {@code vsock nc} connection ends, against ncat itself: inside the
 * project's QEMU guest (kernel vsock loopback, Debian's ncat) the scenarios of nc-rules.sh run with
 * ncat on both ends (the reference, checked against {@link NcRules#NCAT}) and with vsock nc
 * ({@code --transport kernel}) facing ncat in the scenarios where the two implementations meet on the
 * wire. Exit codes, timing class and bytes must be ncat's. One guest boot for the whole matrix.
 *
 * <p>Why not every scenario, with vsock nc on both ends and both ways round: each JVM start costs 30 to
 * 60 seconds under single-threaded TCG (measured 2026-12-02: 55 s until {@code vsock nc -l} listened,
 * most of it JIT compiler threads and FFM linking sharing one emulated CPU), and that matrix took 40
 * minutes in CI. Every scenario runs with vsock nc on both ends on the host (NcRulesLauncherIT), where
 * the rules are the same code. Here vsock nc meets ncat where the wire matters: half-close both ways
 * round (SHUTDOWN flags between the two), the listener serving -k --exec clients and reading the EOF of a
 * killed client, and the client after its listener was killed (EOF, then EPIPE on the next send). The
 * vsock nc JVMs run interpreted ({@code -Xint}), which starts about twice as fast there and cannot change
 * what nc does.
 */
class NcRulesInGuestIT {
    /** Five vsock nc JVM starts and the ncat reference: about 4 minutes on these machines, more on a loaded one. */
    private static final int GUEST_TIMEOUT_SECONDS = 1200;
    /** Which scenarios each mixed pair runs (LISTENER:CLIENT). */
    private static final Map<String, List<String>> MIXED = Map.of(
            "vsock:ncat", List.of("keep-open-exec", "half-close-both", "client-killed"),
            "ncat:vsock", List.of("half-close-both", "listener-killed"));
    private static Path results;

    @BeforeAll
    @Timeout(GUEST_TIMEOUT_SECONDS + 180) // the suite's 60 s default does not fit a TCG guest; waitFor below bounds run.sh
    static void runInGuest() throws Exception {
        Path launcher = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath().normalize();
        Path root = launcher.getParent();
        Path dir = Files.createDirectories(Path.of("target", "nc-rules-guest").toAbsolutePath());
        results = dir.resolve("results.txt");
        Files.deleteIfExists(results);
        Path log = dir.resolve("guest-output.log");
        List<String> command = new ArrayList<>(List.of(root.resolve("guest/run.sh").toString(),
                "--retry-jvm-crash", "2", "--timeout", "" + GUEST_TIMEOUT_SECONDS, "--share", dir.toString(),
                "--env", GuestLauncher.INTERPRETED, "--",
                "bash", NcRules.SCRIPT.toString(), results.toString(), launcher + " --transport kernel nc", "ncat:ncat"));
        MIXED.forEach((pair, scenarios) -> command.add(pair + "/" + String.join(",", scenarios)));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(GUEST_TIMEOUT_SECONDS + 120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("guest/run.sh did not return; output in " + log);
        }
        if (!Files.exists(results) || !Files.readString(results).endsWith("done\n")) {
            fail("the guest did not finish the scenarios (run.sh exit " + p.exitValue() + "):\n" + Files.readString(log));
        }
    }

    @Test
    void ncatStillEndsItsConnectionsAsTheReferenceSays() throws Exception {
        assertThat(NcRules.observed(results, "ncat:ncat"))
                .as("ncat:ncat; stderr:%n%s", NcRules.stderr(results, "ncat:ncat"))
                .containsExactlyInAnyOrderEntriesOf(NcRules.NCAT);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vsock:ncat", "ncat:vsock"})
    void vsockNcFacingNcatEndsItsConnectionsAsNcatDoes(String pair) throws Exception {
        assertThat(NcRules.observed(results, pair))
                .as("listener:client = %s; stderr:%n%s", pair, NcRules.stderr(results, pair))
                .containsExactlyInAnyOrderEntriesOf(NcRules.only(NcRules.NCAT, MIXED.get(pair)));
    }

    /** The reference holds: what ncat did in this run is what vsock nc did in the same scenarios. */
    @ParameterizedTest
    @ValueSource(strings = {"vsock:ncat", "ncat:vsock"})
    void vsockNcMatchesThisRunsNcatExactly(String pair) throws Exception {
        assertThat(NcRules.observed(results, pair)).as(Files.readString(results, StandardCharsets.UTF_8))
                .isEqualTo(NcRules.only(NcRules.observed(results, "ncat:ncat"), MIXED.get(pair)));
    }
}
