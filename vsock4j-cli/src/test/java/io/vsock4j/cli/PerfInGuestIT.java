package io.vsock4j.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * {@code vsock perf} on the kernel's AF_VSOCK inside the project's QEMU guest (guest/run.sh): receiver and
 * sender as two processes, and each of them against scripts/bench/vsock_bench.c, a C program on vsock_perf's
 * wire protocol (connect, send, close), 32 MiB per transfer with a 0.2 s --omit. One guest boot
 * (src/test/guest/perf-in-guest.sh); the C program is compiled here with gcc first. Figures are not checked:
 * docs/benchmarks-kernel.md has them. The JVMs run interpreted ({@link GuestLauncher}).
 */
class PerfInGuestIT {
    private static final int GUEST_TIMEOUT_SECONDS = 900;
    private static final long BYTES = 32L << 20;
    private static Path results;

    @BeforeAll
    @Timeout(GUEST_TIMEOUT_SECONDS + 180) // the suite's 60 s default does not fit a TCG guest; waitFor below bounds run.sh
    static void runInGuest() throws Exception {
        Path launcher = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath().normalize();
        Path root = launcher.getParent();
        results = Path.of("target", "perf-guest").toAbsolutePath();
        Files.createDirectories(results);
        Files.deleteIfExists(results.resolve("exits.txt"));
        Path c = results.resolve("vsock_bench");
        Process gcc = new ProcessBuilder("gcc", "-O2", "-Wall", "-o", c.toString(),
                root.resolve("scripts/bench/vsock_bench.c").toString()).inheritIO().start();
        assertThat(gcc.waitFor()).as("gcc scripts/bench/vsock_bench.c").isZero();
        Path log = results.resolve("guest-output.log");
        Path script = Path.of("src", "test", "guest", "perf-in-guest.sh").toAbsolutePath();
        Process p = new ProcessBuilder(root.resolve("guest/run.sh").toString(), "--retry-jvm-crash", "2",
                "--timeout", "" + GUEST_TIMEOUT_SECONDS, "--share", results.toString(),
                "--env", GuestLauncher.INTERPRETED, "--", "bash", script.toString(),
                launcher.toString(), results.toString(), c.toString(), "" + BYTES, "0.2", "java:java", "c:java", "java:c")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(GUEST_TIMEOUT_SECONDS + 120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("guest/run.sh did not return; output in " + log);
        }
        if (!Files.exists(results.resolve("exits.txt")) || read("exits.txt").lines().count() < 3) {
            fail("the guest did not finish (run.sh exit " + p.exitValue() + "):\n" + Files.readString(log));
        }
    }

    private static String read(String file) throws IOException {
        return Files.readString(results.resolve(file), StandardCharsets.UTF_8);
    }

    private static void assertExits(String pair) throws IOException {
        String errors = read(pair + ".rx.err") + read(pair + ".tx.err");
        List<String> exits = read("exits.txt").lines().filter(l -> l.startsWith(pair + " ")).toList();
        assertThat(exits).as(errors).containsExactly(pair + " rx_exit 0 tx_exit 0");
    }

    /** A Java receiver's report: every byte, a warm rate after the omitted start, and the whole-run rate. */
    private static void assertJavaReceived(String pair) throws IOException {
        assertThat(read(pair + ".rx")).contains("total bytes received: " + BYTES)
                .containsPattern("rx performance: [0-9.]+ Gbit/s warm \\([0-9]+ bytes in [0-9.]+ s; omitted: the first"
                        + " [0-9.]+ s and [0-9]+ bytes, --omit 0.2 s or half the run\\)")
                .containsPattern("rx whole run: [0-9.]+ Gbit/s \\(" + BYTES + " bytes in [0-9.]+ s\\)");
    }

    private static void assertJavaSent(String pair) throws IOException {
        assertThat(read(pair + ".tx")).contains("total bytes sent: " + BYTES)
                .containsPattern("tx performance: [0-9.]+ Gbit/s warm")
                .containsPattern("tx whole run: [0-9.]+ Gbit/s \\(" + BYTES + " bytes in [0-9.]+ s\\)");
    }

    @Test
    void aVsockPerfReceiverAndSenderMeasureTheSameTransferOverTheKernel() throws Exception {
        assertExits("java-java");
        assertJavaReceived("java-java");
        assertJavaSent("java-java");
    }

    @Test
    void aVsockPerfReceiverTakesTheCProgramsTransfer() throws Exception {
        assertExits("java-c");
        assertJavaReceived("java-c");
    }

    @Test
    void theCProgramReceivesEveryByteAVsockPerfSenderSends() throws Exception {
        assertExits("c-java");
        assertThat(read("c-java.rx")).containsPattern("c-recv bytes=" + BYTES + " seconds=");
        assertJavaSent("c-java");
    }
}
