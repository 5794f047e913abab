package io.vsock4j.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * {@code vsock proxy} on the kernel's AF_VSOCK, inside the project's QEMU guest (vsock_loopback, CID 1):
 * both proxies as processes of the launcher with {@code --transport kernel}, a TCP client and server
 * (src/test/guest/proxy_peers.py) on either side:
 * client -> {@code vsock proxy --tcp-listen 127.0.0.1:7200 --to 1:7000} -> the guest kernel's vsock ->
 * {@code vsock proxy 7000 127.0.0.1 7100} -> server. Half-close both ways (FIN -> SHUTDOWN -> FIN);
 * backpressure both ways: 8 MiB to a reader that does not read, the writer held with less than 4.5 MiB
 * written (the guest caps TCP's buffers at 256 KiB so a few MiB suffice, see proxy-in-guest.sh), then all
 * of it by SHA-256; a killed client or server (a reset) ending the other's connection; and 200
 * connections, after which both proxies' descriptors and the kernel's vsock sockets are back where they
 * were. One guest boot; the proxies' JVMs run interpreted, which starts them about twice as fast under
 * TCG and cannot change what the relay does (NcRulesInGuestIT measured the same).
 */
class ProxyInGuestIT {
    /** Two JVM starts in parallel (about 50 s here) and about 15 s of cases; more on a loaded machine. */
    private static final int GUEST_TIMEOUT_SECONDS = 600;
    private static Map<String, String> results;
    private static String log;

    @BeforeAll
    @Timeout(GUEST_TIMEOUT_SECONDS * 3 + 180) // up to three guest runs (--retry-jvm-crash 2); waitFor bounds each
    static void runInGuest() throws Exception {
        Path launcher = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath().normalize();
        Path root = launcher.getParent();
        Path dir = Files.createDirectories(Path.of("target", "proxy-guest").toAbsolutePath());
        Path file = dir.resolve("results.txt");
        Files.deleteIfExists(file);
        Path output = dir.resolve("guest-output.log");
        Path script = Path.of("src", "test", "guest", "proxy-in-guest.sh").toAbsolutePath();
        Process p = new ProcessBuilder(root.resolve("guest/run.sh").toString(), "--retry-jvm-crash", "2",
                "--timeout", "" + GUEST_TIMEOUT_SECONDS, "--share", dir.toString(),
                "--env", GuestLauncher.INTERPRETED, "--",
                "bash", script.toString(), launcher.toString(), dir.toString())
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!p.waitFor(3L * GUEST_TIMEOUT_SECONDS + 120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("guest/run.sh did not return; output in " + output);
        }
        log = Files.readString(output);
        if (!Files.exists(file) || !Files.readString(file).endsWith("done 1\n")) {
            fail("the guest did not finish (run.sh exit " + p.exitValue() + "):\n" + log
                    + (Files.exists(file) ? "\nresults so far:\n" + Files.readString(file) : ""));
        }
        results = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            int space = line.indexOf(' ');
            results.put(line.substring(0, space), line.substring(space + 1));
        }
        System.out.println("proxy-in-guest: " + results);
    }

    /** Everything the guest wrote, for a failure's message. */
    private static String all() {
        StringBuilder b = new StringBuilder("guest results:\n");
        results.forEach((k, v) -> b.append(k).append(' ').append(v).append('\n'));
        return b.append("guest output:\n").append(log).toString();
    }

    @Test
    void bothProxiesRanOnTheKernelsVsock() {
        assertThat(results.get("to_tcp_started")).as(all())
                .isEqualTo("vsock proxy: vsock any:7000 on kernel -> tcp 127.0.0.1:7100, at most 4 connections at once");
        assertThat(results.get("to_vsock_started")).as(all())
                .isEqualTo("vsock proxy: tcp /127.0.0.1:7200 -> vsock 1:7000 on kernel, at most 4 connections at once");
    }

    @ParameterizedTest
    @ValueSource(strings = {"client-half-close", "server-half-close"})
    void halfCloseCrossesBothProxiesEitherWay(String scenario) {
        assertThat(results.get(scenario)).as(all()).startsWith("ok ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"client-writes", "server-writes"})
    void aReaderThatStopsHoldsTheWriterThenEverythingArrives(String scenario) {
        assertThat(results.get(scenario)).as(all()).startsWith("ok ").contains("then 8388608 bytes by SHA-256");
    }

    /** A reset from a killed end closes the other end's connection through both proxies (within 30 s, under TCG). */
    @ParameterizedTest
    @ValueSource(strings = {"client-killed", "server-killed"})
    void killingOneEndMidStreamFailsTheOtherEndsWrites(String scenario) {
        assertThat(results.get(scenario)).as(all()).startsWith("ok ");
    }

    /** The relay's own descriptors are checked on the Java machines; here the kernel transport's too. */
    @Test
    void twoHundredConnectionsLeaveNoDescriptorAndNoKernelSocket() {
        assertThat(results.get("many")).as(all()).startsWith("ok ").endsWith("200 connections echoed");
        assertThat(results.get("many_settled")).as(all()).isEqualTo("yes");
    }

    @Test
    void thePeersAndTheProxiesReportedNoError() {
        assertThat(results.get("peers_exit")).as(all()).isEqualTo("0");
        assertThat(results.get("many_exit")).as(all()).isEqualTo("0");
        assertThat(results.get("peers_stderr")).as(all()).isEmpty();
        // A connection the proxies could not relay is logged on stderr after the start-up line.
        assertThat(results.get("to_tcp_stderr")).as(all()).isEmpty();
        assertThat(results.get("to_vsock_stderr")).as(all()).isEmpty();
        // SIGTERM at the end: the JVM's default handler, 128 + 15.
        assertThat(results.get("to_tcp_exit")).as(all()).isEqualTo("143");
        assertThat(results.get("to_vsock_exit")).as(all()).isEqualTo("143");
    }
}
