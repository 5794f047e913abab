package io.vsock4j.conformance;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The suite on the kernel's AF_VSOCK: boots the project's QEMU guest once with the Debian kernel of a
 * series (guest/run.sh, VSOCK4J_GUEST_KERNEL; setup.sh fetches and caches it), runs {@link SuiteMain}
 * there on this test class path, every case in one JVM over the kernel's loopback (CID 1), and returns
 * its output. A guest that does not boot, or a kernel of another series, fails the run. Stateless.
 */
final class GuestRun {
    /** The guest's own limit; TCG runs a JVM at a fraction of the host's speed. */
    private static final int GUEST_TIMEOUT_SECONDS = 600;
    /**
     * The start of every guest command that runs the suite, for {@code bash -c} with the class path as
     * {@code $0}; the main class and its arguments follow. C1 only, the fastest here under TCG
     * (guest/README.md, "JVMs in the guest").
     */
    static final String JAVA = "ulimit -n 65536 && exec java --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1"
            + " -Djdk.virtualThreadScheduler.parallelism=2 -Djdk.virtualThreadScheduler.maxPoolSize=2 -cp \"$0\" ";

    private GuestRun() {
    }

    static String run(String series) throws Exception {
        Path root = repositoryRoot();
        Path log = Path.of("target", "conformance-kernel-" + series + ".log").toAbsolutePath();
        Files.createDirectories(log.getParent());
        String java = JAVA + SuiteMain.class.getName() + " kernel " + ConformanceSuite.DEFAULT_BASE_PORT;
        ProcessBuilder pb = new ProcessBuilder(root.resolve("guest/run.sh").toString(), "--retry-jvm-crash", "2",
                "--timeout", Integer.toString(GUEST_TIMEOUT_SECONDS), "--", "bash", "-c", java, guestClassPath())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("VSOCK4J_GUEST_KERNEL", series);
        Process p = pb.start();
        if (!p.waitFor(3L * GUEST_TIMEOUT_SECONDS + 120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("guest/run.sh did not return; output in " + log);
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        String release = output.lines().filter(l -> l.startsWith("KERNEL ")).findFirst()
                .map(l -> l.substring(7)).orElse(null);
        if (release == null) {
            fail("the guest ran no suite (run.sh exit " + p.exitValue() + ", 125 = did not boot, 124 = timeout):\n"
                    + Remote.tail(output));
        }
        assertThat(release).as("the guest's kernel").startsWith(series + ".");
        return output;
    }

    static Path repositoryRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isExecutable(d.resolve("guest/run.sh"))) {
                return d;
            }
        }
        throw new IllegalStateException("guest/run.sh not found above " + Path.of("").toAbsolutePath());
    }

    /** Surefire's real test class path (java.class.path may be a manifest-only jar in /tmp, which the guest cannot see). */
    static String guestClassPath() throws IOException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> entries = Arrays.stream(cp.split(File.pathSeparator)).filter(e -> !e.isBlank()).toList();
        for (String e : entries) {
            assertThat(Path.of(e).toRealPath().startsWith("/tmp")).as("class path entry under /tmp, invisible in the guest: " + e).isFalse();
        }
        return String.join(File.pathSeparator, entries);
    }
}
