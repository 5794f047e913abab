package io.vsock4j.cli.nc;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.cli.HybridGuestFixture;
import io.vsock4j.cli.Stdio;
import io.vsock4j.cli.VsockCommand;
import io.vsock4j.core.Machine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vsock nc --hybrid CID=PATH} through the real command line ({@link VsockCommand#execute}) against
 * a guest behind the project's own hybrid host side ({@link HybridGuestFixture}: guest 3, a machine of
 * this JVM, exposed by HybridHost on a Unix socket as Firecracker would). nc's own machine reaches it
 * only over that socket, both ways. HybridLauncherIT runs nc as another process.
 */
@Timeout(60)
class NcHybridTest {
    private HybridGuestFixture vm;
    private Machine guest;

    @BeforeEach
    void start() throws IOException {
        vm = new HybridGuestFixture();
        guest = vm.guest;
    }

    @AfterEach
    void stop() throws IOException {
        vm.close();
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run nc(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Stdio stdio = new Stdio(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), out,
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String[] full = new String[args.length + 1];
        full[0] = "nc";
        System.arraycopy(args, 0, full, 1, args.length);
        int exit = VsockCommand.execute(stdio, (choice, name) -> {
            throw new AssertionError("--hybrid must not open the --transport provider");
        }, full);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void ncConnectsToTheGuestBehindTheUnixSocket() throws Exception {
        try (VsockServerSocket server = VsockServerSocket.bind(guest, VsockAddress.of(VsockAddress.CID_ANY, 5000))) {
            CompletableFuture<String> guestSide = CompletableFuture.supplyAsync(() -> {
                try (VsockSocket s = server.accept()) {
                    String got = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    s.getOutputStream().write(("guest got: " + got).getBytes(StandardCharsets.UTF_8));
                    return got;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Run run = nc("hello from nc", "--hybrid", vm.hybridOption(), "3", "5000");
            assertThat(run.exit()).as(run.err()).isEqualTo(VsockCommand.EXIT_OK);
            assertThat(run.out()).isEqualTo("guest got: hello from nc");
            assertThat(guestSide.get(10, TimeUnit.SECONDS)).isEqualTo("hello from nc");
        }
    }

    @Test
    void ncListensForTheGuestOnPathUnderscorePort() throws Exception {
        CompletableFuture<Run> listener = CompletableFuture.supplyAsync(() -> nc("", "--hybrid", vm.hybridOption(), "-l", "7000"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!vm.vmm.bridges().getFirst().unixPorts().contains(7000)) {
            assertThat(System.nanoTime()).as("the VMM side saw vm.sock_7000").isLessThan(deadline);
            Thread.sleep(10);
        }
        try (VsockSocket s = VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, 7000))) {
            s.getOutputStream().write("from the guest".getBytes(StandardCharsets.UTF_8));
            s.shutdownOutput();
            assertThat(s.getInputStream().read()).isEqualTo(-1); // nc's stdin was empty: it half-closed
        }
        Run run = listener.get(20, TimeUnit.SECONDS);
        assertThat(run.exit()).as(run.err()).isEqualTo(VsockCommand.EXIT_OK);
        assertThat(run.out()).isEqualTo("from the guest");
        assertThat(vm.dir.resolve("vm.sock_7000")).doesNotExist();
    }

    @Test
    void noGuestListenerFailsAsAnyResetConnect() {
        Run run = nc("", "--hybrid", vm.hybridOption(), "3", "6000");
        assertThat(run.exit()).isEqualTo(VsockCommand.EXIT_FAILURE);
        assertThat(run.err()).contains("ECONNRESET");
    }

    @Test
    void badHybridValuesAreUsageErrors() {
        for (String[] args : new String[][] {
                {"--hybrid", "3", "3", "5000"},
                {"--hybrid", "2=" + "/tmp/x", "3", "5000"},
                {"--hybrid", "3=/a", "--hybrid", "3=/b", "3", "5000"},
                {"--transport", "java", "--hybrid", "3=/a", "3", "5000"}}) {
            Run run = nc("", args);
            assertThat(run.exit()).as(String.join(" ", args)).isEqualTo(VsockCommand.EXIT_USAGE);
            assertThat(run.err()).as(String.join(" ", args)).contains("--hybrid");
        }
    }
}
