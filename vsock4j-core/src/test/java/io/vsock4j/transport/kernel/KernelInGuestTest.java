package io.vsock4j.transport.kernel;

import io.vsock4j.testing.QemuGuest;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The kernel provider, proven under a real Linux kernel: boots the project's QEMU guest once
 * (guest/run.sh, which installs QEMU and the guest kernel through guest/setup.sh when missing), runs
 * {@link GuestMain} there on this test class path, and turns each line of the results it writes back
 * into a test here. A guest that does not boot, or a run that reports nothing, fails the build.
 */
class KernelInGuestTest {
    private static final int GUEST_TIMEOUT_SECONDS = 480;

    @TestFactory
    @Timeout(GUEST_TIMEOUT_SECONDS * 3 + 180) // run.sh may run the guest three times (--retry-jvm-crash 2)
    Stream<DynamicTest> kernelProviderInsideTheGuest() throws Exception {
        Path root = QemuGuest.repositoryRoot();
        Path dir = Path.of("target", "kernel-guest").toAbsolutePath();
        Files.createDirectories(dir);
        Path results = dir.resolve("results.tsv");
        Path log = dir.resolve("guest-output.log");
        Files.deleteIfExists(results);
        String classPath = guestClassPath();
        // C1 only, the fastest here under TCG (guest/README.md, "JVMs in the guest").
        String java = "ulimit -n 65536 && exec java --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1"
                + " -Djdk.virtualThreadScheduler.parallelism=2 -Djdk.virtualThreadScheduler.maxPoolSize=2"
                + " -cp \"$0\" io.vsock4j.transport.kernel.GuestMain \"$1\"";
        List<String> command = List.of(root.resolve("guest/run.sh").toString(), "--retry-jvm-crash", "2", "--timeout", Integer.toString(GUEST_TIMEOUT_SECONDS),
                "--share", dir.toString(), "--", "bash", "-c", java, classPath, results.toString());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(GUEST_TIMEOUT_SECONDS + 120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("guest/run.sh did not return; output in " + log);
        }
        int status = p.exitValue();
        String output = Files.readString(log, StandardCharsets.UTF_8);
        if (!Files.exists(results)) {
            fail("the guest wrote no results (run.sh exit " + status + ", 125 = did not boot, 124 = timeout):\n" + tail(output));
        }
        List<String> lines = Files.readAllLines(results, StandardCharsets.UTF_8);
        List<DynamicTest> tests = new ArrayList<>();
        tests.add(DynamicTest.dynamicTest("guest run completed", () -> {
            assertThat(lines).as("results").hasSizeGreaterThanOrEqualTo(6);
            assertThat(lines).as("tests skipped in the guest").noneMatch(l -> l.startsWith("SKIP"));
            for (Class<?> c : GuestMain.CLASSES) {
                assertThat(lines).as("results of " + c.getSimpleName())
                        .anyMatch(l -> l.contains("\t" + c.getSimpleName() + "#"));
            }
            assertThat(status).as("guest exit status; output:\n" + tail(output)).isZero();
        }));
        for (String line : lines) {
            String[] f = line.split("\t", 3);
            String message = f.length > 2 ? f[2].replace("\\n", "\n") : "";
            tests.add(DynamicTest.dynamicTest(f[1], () -> {
                if (!f[0].equals("PASS")) {
                    fail(f[0] + " in the guest: " + message);
                }
            }));
        }
        return tests.stream();
    }

    /** Surefire's real test class path (java.class.path may be a manifest-only jar in /tmp, which the guest cannot see). */
    private static String guestClassPath() throws IOException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> entries = Arrays.stream(cp.split(File.pathSeparator)).filter(e -> !e.isBlank()).toList();
        for (String e : entries) {
            assertThat(Path.of(e).toRealPath().startsWith("/tmp")).as("class path entry under /tmp, invisible in the guest: " + e).isFalse();
        }
        return String.join(File.pathSeparator, entries);
    }

    private static String tail(String s) {
        return s.length() > 6000 ? "..." + s.substring(s.length() - 6000) : s;
    }
}
