package io.vsock4j.netty;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The Netty transport over the kernel's AF_VSOCK, proven under a real Linux kernel: boots the project's
 * QEMU guest (guest/run.sh; nothing opens a kernel vsock socket on this machine) and runs
 * {@link KernelEchoGuestMain} there on this test class path, which must print PASS for every case.
 */
class NettyKernelInGuestTest {
    private static final int GUEST_TIMEOUT_SECONDS = 480;

    @Test
    @Timeout(GUEST_TIMEOUT_SECONDS + 180)
    void echoAndHalfCloseOverTheGuestKernel() throws Exception {
        Path root = repositoryRoot();
        Path log = Path.of("target", "netty-kernel-guest.log").toAbsolutePath();
        Files.createDirectories(log.getParent());
        // C1 only, the fastest here under TCG (guest/README.md, "JVMs in the guest").
        String java = "exec java --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1 -cp \"$0\" " + KernelEchoGuestMain.class.getName();
        List<String> command = List.of(root.resolve("guest/run.sh").toString(), "--retry-jvm-crash", "2",
                "--timeout", Integer.toString(GUEST_TIMEOUT_SECONDS), "--", "bash", "-c", java, guestClassPath());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(GUEST_TIMEOUT_SECONDS + 120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("guest/run.sh did not return; output in " + log);
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(output).as("guest output").contains("PASS echo on 20 channels", "PASS half-close").doesNotContain("FAIL");
        assertThat(p.exitValue()).as("guest exit status; output:\n" + output).isZero();
    }

    private static Path repositoryRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isExecutable(d.resolve("guest/run.sh"))) {
                return d;
            }
        }
        throw new IllegalStateException("guest/run.sh not found above " + Path.of("").toAbsolutePath());
    }

    /** Surefire's real test class path (java.class.path may be a manifest-only jar in /tmp, which the guest cannot see). */
    private static String guestClassPath() throws Exception {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> entries = Arrays.stream(cp.split(File.pathSeparator)).filter(e -> !e.isBlank()).toList();
        for (String e : entries) {
            assertThat(Path.of(e).toRealPath().startsWith("/tmp")).as("class path entry under /tmp, invisible in the guest: " + e).isFalse();
        }
        return String.join(File.pathSeparator, entries);
    }
}
