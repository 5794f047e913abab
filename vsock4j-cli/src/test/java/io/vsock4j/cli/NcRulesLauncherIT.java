package io.vsock4j.cli;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * When a {@code vsock nc} connection ends, on the host: the scenarios of nc-rules.sh with two vsock nc
 * processes on a shared machine ({@code --transport shared}), held to what ncat does on the kernel
 * (NcRules.NCAT; NcRulesInGuestIT compares with ncat itself). Only where a process is killed does the
 * transport show: the shared machine's daemon resets the connections of a process that died (as TCP
 * does for a socket closed with unread data), where the kernel's vsock closes them in order.
 */
@Timeout(480) // above the script's own bound (SCRIPT_SECONDS), so a stuck run reports its output
class NcRulesLauncherIT {
    private static final Path LAUNCHER = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath();
    /** The launcher's first use may build the project; the scenarios themselves take about half a minute. */
    private static final int SCRIPT_SECONDS = 420;
    /** How long the script waits for one thing (a listener, bytes): JVMs start in seconds on the host. */
    private static final String AWAIT_SECONDS = "90";
    private static final String MACHINE = "cli-it-nc-rules-" + ProcessHandle.current().pid();

    @AfterAll
    static void removeMachineDirectory() throws Exception {
        assertThat(MachineDirectories.deleteWhenDaemonExits(MACHINE, Duration.ofSeconds(60)))
                .as("the daemon of machine %s exited after its last process left", MACHINE).isTrue();
    }

    /** NcRules.NCAT, with a killed peer's connection reset (ECONNRESET, exit 1) as the shared machine does. */
    private static Map<String, String> expected() {
        Map<String, String> e = new TreeMap<>(NcRules.NCAT);
        e.put("client-killed listener_exit", "1");
        e.put("listener-killed client_timing", "prompt");
        return e;
    }

    @Test
    void twoVsockNcProcessesEndTheirConnectionsAsNcatDoes() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "nc-rules-shared").toAbsolutePath());
        Path results = dir.resolve("results.txt");
        Path log = dir.resolve("output.log");
        ProcessBuilder pb = new ProcessBuilder("bash", NcRules.SCRIPT.toString(), results.toString(),
                LAUNCHER + " --transport shared --machine " + MACHINE + " nc", "vsock:vsock")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("NC_RULES_AWAIT_SECONDS", AWAIT_SECONDS);
        Process p = pb.start();
        if (!p.waitFor(SCRIPT_SECONDS, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("nc-rules.sh did not end within %d s; results so far:%n%s%noutput:%n%s", SCRIPT_SECONDS,
                    Files.exists(results) ? Files.readString(results) : "(none)", Files.readString(log));
        }
        assertThat(Files.readString(results)).as(Files.readString(log)).endsWith("done\n");
        assertThat(NcRules.observed(results, "vsock:vsock"))
                .as("stderr:%n%s%s", NcRules.stderr(results, "vsock:vsock"), Files.readString(log))
                .containsExactlyInAnyOrderEntriesOf(expected());
    }
}
