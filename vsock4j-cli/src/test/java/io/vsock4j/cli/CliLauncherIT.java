package io.vsock4j.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code vsock} command line through the real launcher (./vsock): exit codes, one-line errors,
 * and the commands that run in one process. Two processes: SharedMachineLauncherIT (the shared Java
 * machine) and CliInGuestIT (the kernel, in the QEMU guest).
 */
@Timeout(300) // the launcher's first use may build the project
class CliLauncherIT {
    private record Result(int exit, String out, String err) {
    }

    private static final String MACHINE = "cli-it-auto-" + ProcessHandle.current().pid();

    @AfterAll
    static void removeMachineDirectory() throws Exception {
        assertThat(MachineDirectories.deleteWhenDaemonExits(MACHINE, Duration.ofSeconds(60)))
                .as("the daemon of machine %s exited after its last process left", MACHINE).isTrue();
    }

    private static Result vsock(String... args) throws IOException, InterruptedException {
        Path launcher = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath();
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        // Under --transport auto the commands join a shared machine: a private one, never the user's own.
        pb.environment().put("VSOCK4J_MACHINE", MACHINE);
        Process p = pb.start();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("vsock %s finished", List.of(args)).isTrue();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err.join(), StandardCharsets.UTF_8));
    }

    private static byte[] readAll(java.io.InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void assertOneLineError(Result r, int exit, String start) {
        assertThat(r.exit()).as(r.err()).isEqualTo(exit);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith(start).endsWith("\n");
        assertThat(r.err().strip().lines()).as("one line: %s", r.err()).hasSize(1);
        assertThat(r.err()).doesNotContain("Exception", "\tat ");
    }

    static Stream<List<String>> usageErrors() {
        return Stream.of(
                List.of("nc", "abc", "5000"),
                List.of("nc", "1", "five"),
                List.of("nc", "1", "4294967296"),
                List.of("nc", "1", "-1"),
                List.of("nc", "1"),
                List.of("nc", "-l"),
                List.of("nc", "-k", "1", "5000"),
                List.of("nc", "--timeout", "soon", "1", "5000"),
                List.of("perf", "--port", "x"),
                List.of("perf", "--sender", "host", "--compare"),
                List.of("--transport", "bogus", "info"),
                List.of("--transport", "shared", "--machine", "no spaces", "info"),
                List.of("info", "extra"),
                List.of("test", "--mode", "client"),
                List.of("test", "--peer-cid", "3"),
                List.of("nosuchcommand"),
                List.of());
    }

    @ParameterizedTest
    @MethodSource("usageErrors")
    void badArgumentsAreOneLineAndExitCodeTwo(List<String> args) throws Exception {
        Result r = vsock(args.toArray(String[]::new));
        assertOneLineError(r, 2, "vsock");
        assertThat(r.err()).contains("--help");
    }

    @Test
    void aRefusedConnectNamesTheErrnoWithExitCodeOne() throws Exception {
        assertOneLineError(vsock("nc", "1", "5000"), 1, "vsock nc: ECONNRESET: Connection reset by peer");
    }

    /** On this host the kernel's vsock reaches a hypervisor that is not ours: the guard must refuse, in one line. */
    @Test
    void theKernelTransportIsRefusedOutsideTheTestGuest() throws Exception {
        Result r = vsock("--transport", "kernel", "info");
        assertOneLineError(r, 1, "vsock info: vsock4j refuses to use the kernel provider");
        assertThat(r.err()).contains("vsock4j.guest=1", "vsock4j.kernel.allow");
    }

    @Test
    void autoUsesTheUsersSharedMachineWhereTheKernelIsNotAllowed() throws Exception {
        Result r = vsock("info");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("transport:  auto, vsock4j machine 'shared:" + MACHINE + "' (Java engine)",
                "local CID:  2 (host)", "LOCAL (loopback)       shared-loopback " + MACHINE + " (CID 1)",
                "H2G   (host to guests) shared-host " + MACHINE + " (CID 2, guests [])");
    }

    @Test
    void infoShowsTheLocalCidTheSlotsAndWhereCidsGo() throws Exception {
        Result r = vsock("--transport", "java", "info");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains(
                "transport:  java, vsock4j machine 'loopback' (Java engine)",
                "local CID:  1 (local)",
                "LOCAL (loopback)       java-loopback (CID 1)",
                "G2H   (guest to host)  empty",
                "CID 1 (local):  LOCAL via java-loopback (CID 1), stays on this machine",
                "CID 3:          G2H slot, which is empty: connect fails with ENODEV",
                "bind:       CIDs any, 1");
    }

    @Test
    void theConformanceSuitePassesOnTheJavaLoopback() throws Exception {
        Result r = vsock("--transport", "java", "test");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.getLast()).matches("\\d+ passed, 0 failed");
        int passed = Integer.parseInt(lines.getLast().split(" ")[0]);
        assertThat(passed).isGreaterThanOrEqualTo(20).isEqualTo(lines.size() - 1);
        assertThat(lines.subList(0, passed)).allMatch(l -> l.startsWith("PASS "));
    }

    @Test
    void aTestFilterThatMatchesNothingIsAUsageError() throws Exception {
        assertOneLineError(vsock("test", "--filter", "no such case"), 2, "vsock test: no case matches");
    }

    @Test
    void perfCompareRunsVsockTcpAndUnixAndPrintsRatios() throws Exception {
        Result r = vsock("perf", "--compare", "--bytes", "4M", "--buf-size", "64K", "--rounds", "3", "--warm-up", "0.1");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("Then 3 timed rounds")
                .containsPattern("vsock \\(loopback, CID 1\\) +[0-9.]+ +[0-9.]+ +[0-9.]+")
                .containsPattern("tcp \\(127\\.0\\.0\\.1\\) +[0-9.]+")
                .containsPattern("unix domain socket +[0-9.]+")
                .containsPattern("vsock/tcp: [0-9.]+ \\(ratio of the medians")
                .containsPattern("vsock/unix: [0-9.]+ \\(ratio of the medians");
    }

    @Test
    void captureWritesTheWholeSuiteAsOnePcapThatTsharkReads() throws Exception {
        Path file = java.nio.file.Files.createTempDirectory("vsock4j-capture-it").resolve("suite.pcap");
        Result r = vsock("--transport", "java", "--capture", file.toString(), "test");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        var packets = io.vsock4j.capture.PcapReader.read(file);
        // The suite opens dozens of connections: every one shows its REQUEST in the one file.
        long requests = packets.stream().filter(p -> p.header().op == io.vsock4j.wire.VirtioVsock.OP_REQUEST).count();
        assertThat(requests).isGreaterThan(20);
        // One line per frame: the frame's protocols and the vsock op tshark's dissector read.
        Process tshark = new ProcessBuilder("tshark", "-r", file.toString(), "-T", "fields", "-e", "frame.protocols",
                "-e", "vsock.op").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String dissected = new String(tshark.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(tshark.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(tshark.exitValue()).as(dissected).isZero();
        assertThat(dissected.lines().count()).isEqualTo(packets.size());
        assertThat(dissected.lines()).allMatch(l -> l.startsWith("vsock"), "every frame dissected as vsock");
        assertThat(dissected).doesNotContainIgnoringCase("malformed");
    }

    @Test
    void captureOnTheKernelTransportIsRefusedInOneLine() throws Exception {
        Result r = vsock("--transport", "kernel", "--capture", "/tmp/never-written.pcap", "info");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err().strip().lines().count()).isEqualTo(1);
    }
}
