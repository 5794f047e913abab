package io.vsock4j.transport.kernel;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * The entry point run inside the QEMU guest (by {@link KernelInGuestTest} through guest/run.sh): runs the
 * kernel test classes in one JVM with the JUnit launcher and writes one line per test to the results
 * file, {@code STATUS<TAB>class#test<TAB>message}, STATUS being PASS, FAIL or SKIP. Exit status 0 when
 * every test passed. Refuses to run outside the guest.
 */
public final class GuestMain {
    /**
     * The classes run in the guest; their names keep surefire's default includes off them, {@link GuestOnly}
     * every other way. The conformance suite runs in the guest from its own module
     * (vsock4j-conformance, KernelGuestConformanceTest), on each served kernel.
     */
    static final List<Class<?>> CLASSES = List.of(
            KernelGuestCases.class,
            InteropGuestCases.class,
            VirtualThreadsGuestCases.class,
            KernelReadinessGuestCases.class,
            PlatformWaitGuestCases.class);

    /** Each test's limit inside the guest. */
    static final String GUEST_TEST_TIMEOUT = "300 s";

    private GuestMain() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: GuestMain RESULTS_FILE");
            System.exit(2);
        }
        if (!KernelGuard.current().inGuest()) {
            System.err.println("GuestMain: not inside the vsock4j guest (/proc/cmdline lacks " + KernelGuard.GUEST_MARKER + ")");
            System.exit(3);
        }
        List<String> lines = new ArrayList<>();
        int[] failures = {0};
        java.util.Map<String, Long> started = new java.util.concurrent.ConcurrentHashMap<>();
        TestExecutionListener listener = new TestExecutionListener() {
            @Override
            public void executionStarted(TestIdentifier id) {
                started.put(id.getUniqueId(), System.nanoTime());
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                if (id.isTest()) {
                    record("SKIP", id, reason);
                }
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (id.isTest() || result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                    boolean ok = result.getStatus() == TestExecutionResult.Status.SUCCESSFUL;
                    if (!ok) {
                        failures[0]++;
                    }
                    long ms = (System.nanoTime() - started.getOrDefault(id.getUniqueId(), System.nanoTime())) / 1_000_000;
                    String detail = result.getThrowable().map(GuestMain::describe).orElse("");
                    record(ok ? "PASS" : "FAIL", id, ms + " ms" + (detail.isEmpty() ? "" : ": " + detail));
                }
            }

            private void record(String status, TestIdentifier id, String message) {
                String line = status + "\t" + name(id) + "\t" + message.replace('\t', ' ').replace("\n", "\\n");
                System.out.println(line.length() > 400 ? line.substring(0, 400) + "..." : line);
                lines.add(line);
            }
        };
        // The module's 60 s default (junit-platform.properties) is for the host; under TCG the guest runs
        // a JVM several times slower, and run.sh's --timeout bounds the whole run.
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request()
                .configurationParameter("junit.jupiter.execution.timeout.default", GUEST_TEST_TIMEOUT);
        CLASSES.forEach(c -> request.selectors(selectClass(c)));
        LauncherDiscoveryRequest built = request.build();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(built, listener);
        Files.write(Path.of(args[0]), lines, StandardCharsets.UTF_8);
        System.exit(failures[0] == 0 && !lines.isEmpty() ? 0 : 1);
    }

    /** "SimpleClassName#method" from the unique id's segments. */
    private static String name(TestIdentifier id) {
        String uid = id.getUniqueId();
        String cls = uid.replaceAll(".*\\[class:([^\\]]*)\\].*", "$1");
        cls = cls.substring(cls.lastIndexOf('.') + 1);
        return id.isTest() ? cls + "#" + id.getDisplayName() : cls + " (container)";
    }

    private static String describe(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        String trace = w.toString();
        return trace.length() > 3000 ? trace.substring(0, 3000) : trace;
    }
}
