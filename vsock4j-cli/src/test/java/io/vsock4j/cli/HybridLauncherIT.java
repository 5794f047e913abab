package io.vsock4j.cli;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vsock nc --hybrid} through the real launcher (./vsock), another process: the guest is a machine
 * of this JVM behind HybridHost ({@link HybridGuestFixture}), exposed on a Unix socket as Firecracker
 * would, so the only way from nc's process to the guest is that socket. A file by checksum both ways, and a reset connect's
 * exit code and one-line error.
 */
@Timeout(300) // the launcher's first use may build the project
class HybridLauncherIT {
    private HybridGuestFixture vm;

    @BeforeEach
    void start() throws IOException {
        vm = new HybridGuestFixture();
    }

    @AfterEach
    void stop() throws IOException {
        vm.close();
    }

    private record Result(int exit, byte[] out, String err) {
    }

    private static Result vsock(Path stdin, String... args) throws IOException, InterruptedException {
        Path launcher = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath();
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectInput(stdin.toFile()).start();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getErrorStream().readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("vsock %s finished", List.of(args)).isTrue();
        return new Result(p.exitValue(), out, new String(err.join(), StandardCharsets.UTF_8));
    }

    @Test
    void ncInAnotherProcessReachesTheGuestOverItsUnixSocketByChecksumBothWays() throws Exception {
        long seed = System.nanoTime();
        System.out.println("HybridLauncherIT seed " + seed);
        Random random = new Random(seed);
        byte[] upload = new byte[(2 << 20) + random.nextInt(4096)];
        byte[] download = new byte[(1 << 20) + random.nextInt(4096)];
        random.nextBytes(upload);
        random.nextBytes(download);
        Path stdin = vm.dir.resolve("upload.bin");
        Files.write(stdin, upload);
        try (VsockServerSocket server = VsockServerSocket.bind(vm.guest, VsockAddress.of(VsockAddress.CID_ANY, 5000))) {
            CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
                try (VsockSocket s = server.accept()) {
                    s.getOutputStream().write(download); // nc reads while it sends
                    s.shutdownOutput();
                    return s.getInputStream().readAllBytes();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Result r = vsock(stdin, "nc", "--hybrid", vm.hybridOption(), "3", "5000");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(sha256(received.get(30, TimeUnit.SECONDS))).isEqualTo(sha256(upload));
            assertThat(sha256(r.out())).isEqualTo(sha256(download));
        }
    }

    @Test
    void noGuestListenerIsOneLineNamingEconnresetWithExitCodeOne() throws Exception {
        Result r = vsock(Path.of("/dev/null"), "nc", "--hybrid", vm.hybridOption(), "3", "6000");
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("ECONNRESET").endsWith("\n").doesNotContain("Exception", "\tat ");
        assertThat(r.err().strip().lines()).hasSize(1);
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
