package io.vsock4j.cli.perf;

import io.vsock4j.machines.Machines;
import io.vsock4j.cli.Stdio;
import io.vsock4j.cli.VsockCommand;
import io.vsock4j.core.Machine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vsock perf} through the real command line ({@link VsockCommand#execute}) on one Java-loopback
 * machine, with tiny transfers: what it prints and how, never how fast (docs/benchmarks.md has the figures).
 */
@Timeout(120)
class PerfCommandTest {
    private static final String NUMBER = "[0-9.]+(e[+-]?[0-9]+)?";
    private Machine machine;

    @BeforeEach
    void start() {
        machine = Machines.loopback();
    }

    @AfterEach
    void stop() {
        machine.close();
    }

    private record Run(int exit, String out, String err) {
    }

    private Run perf(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Stdio stdio = new Stdio(new ByteArrayInputStream(new byte[0]), out, new PrintStream(err, true, StandardCharsets.UTF_8));
        String[] full = new String[args.length + 3];
        full[0] = "--transport";
        full[1] = "java";
        full[2] = "perf";
        System.arraycopy(args, 0, full, 3, args.length);
        int exit = VsockCommand.execute(stdio, (choice, name) -> machine, full);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void compareWarmsUpThenRunsInterleavedRoundsAndPrintsMedianSpreadRatiosAndTheRoundCount() {
        Run r = perf("--compare", "--bytes", "1M", "--buf-size", "64K", "--rounds", "3", "--warm-up", "0.01");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out())
                .contains("1048576 bytes per transfer in 65536-byte writes")
                .containsPattern("Warm-up \\(untimed\\): vsock [1-9][0-9]* transfers in [0-9.]+ s, tcp [1-9][0-9]* transfers"
                        + " in [0-9.]+ s, unix [1-9][0-9]* transfers in [0-9.]+ s\\.")
                .contains("Then 3 timed rounds, the transports interleaved in each:")
                .containsPattern("vsock \\(loopback, CID 1\\) +[0-9.]+ +[0-9.]+ +[0-9.]+\n")
                .containsPattern("tcp \\(127\\.0\\.0\\.1\\) +[0-9.]+ +[0-9.]+ +[0-9.]+\n")
                .containsPattern("unix domain socket +[0-9.]+ +[0-9.]+ +[0-9.]+\n")
                .containsPattern("vsock/tcp: [0-9.]+ \\(ratio of the medians; round by round [0-9.]+ to [0-9.]+, median [0-9.]+\\)")
                .containsPattern("vsock/unix: [0-9.]+ \\(ratio");
        // Progress on stderr, in the schedule's order: the timed rounds go vsock, tcp, unix, vsock, ...
        assertThat(r.err()).containsPattern("round \\d+ vsock [^\n]*\n[^\n]*round \\d+ tcp [^\n]*\n[^\n]*round \\d+ unix ");
    }

    @Test
    void compareJsonIsOneObjectWithEachTransportsRoundsStatsAndTheRatios() {
        Run r = perf("--compare", "--bytes", "1M", "--rounds", "2", "--warm-up", "0", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        String json = r.out().strip();
        assertThat(json.lines().count()).isEqualTo(1);
        String stats = "\\{\"median\":" + NUMBER + ",\"min\":" + NUMBER + ",\"max\":" + NUMBER + ",\"count\":2}";
        String rounds = "\\[" + NUMBER + "," + NUMBER + "]";
        assertThat(json).matches("\\{\"mode\":\"compare\",\"bytesPerTransfer\":1048576,\"bufSize\":65536,"
                + "\"warmUpSeconds\":0,\"timedRounds\":2,\"unit\":\"Gbit/s\",\"transports\":\\["
                + "\\{\"name\":\"vsock\",\"label\":\"vsock \\(loopback, CID 1\\)\",\"warmUpTransfers\":0,\"warmUpSeconds\":0,"
                + "\"rounds\":" + rounds + ",\"stats\":" + stats + "},"
                + "\\{\"name\":\"tcp\",\"label\":\"tcp \\(127\\.0\\.0\\.1\\)\",[^{]*\"stats\":" + stats + "},"
                + "\\{\"name\":\"unix\",\"label\":\"unix domain socket\",[^{]*\"stats\":" + stats + "}],"
                + "\"ratios\":\\[\\{\"name\":\"vsock/tcp\",\"ofMedians\":" + NUMBER + ",\"perRound\":" + stats + "},"
                + "\\{\"name\":\"vsock/unix\",\"ofMedians\":" + NUMBER + ",\"perRound\":" + stats + "}]}");
    }

    @Test
    void localRunsVsockAloneInRounds() {
        Run r = perf("--local", "--bytes", "1M", "--rounds", "2", "--warm-up", "0");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("Then 2 timed rounds").containsPattern("vsock \\(loopback, CID 1\\) +[0-9.]+")
                .doesNotContain("tcp", "unix", "ratio");
    }

    @Test
    void aReceiverAndASenderEachReportTheWarmAndTheWholeRate() throws Exception {
        ByteArrayOutputStream receiverOut = new ByteArrayOutputStream();
        PipedErr receiverErr = new PipedErr();
        Stdio stdio = new Stdio(new ByteArrayInputStream(new byte[0]), receiverOut, receiverErr);
        CompletableFuture<Integer> receiver = CompletableFuture.supplyAsync(() -> VsockCommand.execute(stdio,
                (choice, name) -> machine, "--transport", "java", "perf", "--port", "5001", "--omit", "0.001"));
        receiverErr.await("vsock perf: receiving on");
        Run sender = perf("--sender", "1", "--port", "5001", "--bytes", "32M", "--omit", "0.001", "--json");
        assertThat(sender.exit()).as(sender.err()).isZero();
        assertThat(receiver.get(60, TimeUnit.SECONDS)).as(receiverErr.text()).isZero();
        String rx = receiverOut.toString(StandardCharsets.UTF_8);
        assertThat(rx).contains("total bytes received: 33554432")
                .containsPattern("rx performance: [0-9.]+ Gbit/s warm \\([0-9]+ bytes in [0-9.]+ s; omitted: the first"
                        + " [0-9.]+ s and [0-9]+ bytes, --omit 0.001 s or half the run\\)")
                .containsPattern("rx whole run: [0-9.]+ Gbit/s \\(33554432 bytes in [0-9.]+ s\\)");
        String whole = "\\{\"bytes\":33554432,\"seconds\":" + NUMBER + ",\"gbps\":" + NUMBER + "}";
        assertThat(sender.out().strip()).matches("\\{\"mode\":\"sender\",\"omitSeconds\":0.001,\"warm\":\\{\"bytes\":[0-9]+,"
                + "\"seconds\":" + NUMBER + ",\"gbps\":" + NUMBER + ",\"omittedBytes\":[0-9]+,\"omittedSeconds\":" + NUMBER
                + "},\"whole\":" + whole + "}");
    }

    @Test
    void omitZeroPrintsTheWholeRateAsThePerformance() throws Exception {
        ByteArrayOutputStream receiverOut = new ByteArrayOutputStream();
        PipedErr receiverErr = new PipedErr();
        Stdio stdio = new Stdio(new ByteArrayInputStream(new byte[0]), receiverOut, receiverErr);
        CompletableFuture<Integer> receiver = CompletableFuture.supplyAsync(() -> VsockCommand.execute(stdio,
                (choice, name) -> machine, "--transport", "java", "perf", "--port", "5002", "--omit", "0"));
        receiverErr.await("vsock perf: receiving on");
        Run sender = perf("--sender", "1", "--port", "5002", "--bytes", "1M", "--omit", "0");
        assertThat(sender.exit()).as(sender.err()).isZero();
        assertThat(sender.out()).contains("total bytes sent: 1048576").contains("(nothing omitted: --omit 0)");
        assertThat(receiver.get(60, TimeUnit.SECONDS)).as(receiverErr.text()).isZero();
        assertThat(receiverOut.toString(StandardCharsets.UTF_8)).containsPattern("rx performance: [0-9.]+ Gbit/s \\(nothing omitted");
    }

    @Test
    void badRoundsOrSecondsAreUsageErrors() {
        assertThat(perf("--compare", "--rounds", "0").exit()).isEqualTo(VsockCommand.EXIT_USAGE);
        assertThat(perf("--omit", "-1").exit()).isEqualTo(VsockCommand.EXIT_USAGE);
        assertThat(perf("--compare", "--warm-up", "NaN").exit()).isEqualTo(VsockCommand.EXIT_USAGE);
    }

    /** A stderr whose text a test can wait for. */
    private static final class PipedErr extends PrintStream {
        private final ByteArrayOutputStream bytes;

        PipedErr() {
            this(new ByteArrayOutputStream());
        }

        private PipedErr(ByteArrayOutputStream bytes) {
            super(bytes, true, StandardCharsets.UTF_8);
            this.bytes = bytes;
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            super.write(b, off, len);
            notifyAll();
        }

        synchronized void await(String text) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!text().contains(text)) {
                long left = deadline - System.nanoTime();
                assertThat(left).as("waited for '%s'; stderr: %s", text, text()).isPositive();
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }
}
