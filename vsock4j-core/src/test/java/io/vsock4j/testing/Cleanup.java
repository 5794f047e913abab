package io.vsock4j.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * What a test started and must not leave behind, ended after each test (register with
 * {@code @RegisterExtension}): processes first (a guest's QEMU, killed), then resources closed in the
 * reverse of the order they were added, as try-with-resources would. One test thread.
 */
public final class Cleanup implements AfterEachCallback {
    private final List<Process> processes = new ArrayList<>();
    private final List<AutoCloseable> resources = new ArrayList<>();

    /** Killed after the test. */
    public Process process(Process p) {
        processes.add(p);
        return p;
    }

    /** Closed after the test, after the processes, the last added first. */
    public <T extends AutoCloseable> T close(T resource) {
        resources.add(resource);
        return resource;
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        processes.clear();
        Exception first = null;
        for (AutoCloseable c : resources.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        resources.clear();
        if (first != null) {
            throw first;
        }
    }
}
