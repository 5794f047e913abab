package io.vsock4j.cli.conformance;

import io.vsock4j.VsockAddress;
import io.vsock4j.spi.SocketProvider;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The vsock conformance suite: the checklist of tools/testing/vsock/vsock_test.c as runnable code (not
 * JUnit), so the same cases run against any {@link SocketProvider}: the Java engine here, the kernel's
 * AF_VSOCK inside a QEMU guest. Each case has a client and a server half ({@link Case}); in one process
 * both halves run on virtual threads and talk over an in-memory {@link Control}; across two processes
 * each runs its half and the control channel is TCP ({@link RemoteRun}).
 *
 * <p>Output: one line per case, {@code PASS n name} or {@code FAIL n name: reason}, then
 * {@code N passed, N failed}. Runs on the caller's thread.
 */
public final class ConformanceSuite {
    /** Case n uses port {@code basePort + n}; the rebind case also {@code basePort + n + 10000}. */
    public static final int DEFAULT_BASE_PORT = 20_000;
    /** How long one case may take before it fails. */
    static final long CASE_TIMEOUT_MILLIS = 30_000;

    private final SocketProvider provider;
    private final int peerCid;
    private final int basePort;

    /**
     * @param peerCid  where the client half connects; in one process the loopback, {@link VsockAddress#CID_LOCAL}
     * @param basePort the first case's port
     */
    public ConformanceSuite(SocketProvider provider, int peerCid, int basePort) {
        this.provider = provider;
        this.peerCid = peerCid;
        this.basePort = basePort;
    }

    /** Every case, in the order they run. */
    public static List<Case> cases() {
        List<Case> all = new ArrayList<>(StreamCases.all());
        all.addAll(SeqpacketCases.all());
        return List.copyOf(all);
    }

    /** Passed and failed counts. */
    public record Summary(int passed, int failed) {
        public String line() {
            return passed + " passed, " + failed + " failed";
        }
    }

    /** Runs the cases whose name {@code selected} accepts, both halves in this process. */
    public Summary runInProcess(PrintStream out, Predicate<String> selected) throws InterruptedException {
        int passed = 0;
        int failed = 0;
        List<Case> all = cases();
        for (int i = 0; i < all.size(); i++) {
            Case c = all.get(i);
            if (!selected.test(c.name())) {
                continue;
            }
            String failure = runBoth(c, basePort + i + 1);
            out.println(verdict(i + 1, c, failure));
            if (failure == null) {
                passed++;
            } else {
                failed++;
            }
        }
        Summary summary = new Summary(passed, failed);
        out.println(summary.line());
        return summary;
    }

    static String verdict(int number, Case c, String failure) {
        return (failure == null ? "PASS " : "FAIL ") + number + " " + c.name() + (failure == null ? "" : ": " + failure);
    }

    int basePort() {
        return basePort;
    }

    Side side(int port, Control control) {
        return new Side(provider, peerCid, port, control);
    }

    /**
     * One case, server and client halves on virtual threads. Null: passed. When a half fails, the other
     * is woken (its sockets closed) and the failures are reported in the order they happened, so the
     * cause comes first and its consequence (say an EPIPE on the other side) after it.
     */
    private String runBoth(Case c, int port) throws InterruptedException {
        Control[] control = Control.pair();
        Side server = side(port, control[0]);
        Side client = side(port, control[1]);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletionService<Failure> done = new ExecutorCompletionService<>(pool);
            List<Future<Failure>> halves = List.of(
                    done.submit(() -> runHalf("server", c.server(), server)),
                    done.submit(() -> runHalf("client", c.client(), client)));
            List<Failure> failures = new ArrayList<>();
            try {
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CASE_TIMEOUT_MILLIS);
                for (int finished = 0; finished < 2; finished++) {
                    Future<Failure> f = done.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                    if (f == null) {
                        if (failures.isEmpty()) {
                            failures.add(Failure.of("timed out after " + CASE_TIMEOUT_MILLIS + " ms"));
                        }
                        break; // after a failure, a half still waiting on the control channel is just stopped
                    }
                    Failure failure = f.get();
                    if (failure != null) {
                        failures.add(failure);
                        server.closeAll(); // wakes the other half
                        client.closeAll();
                        deadline = Math.min(deadline, System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
                    }
                }
            } catch (ExecutionException e) {
                failures.add(Failure.of("error: " + e.getCause()));
            } finally {
                server.closeAll(); // wakes a half still blocked on a socket
                client.closeAll();
                halves.forEach(f -> f.cancel(true));
            }
            return failures.stream().sorted(java.util.Comparator.comparingLong(Failure::atNanos))
                    .map(Failure::reason).reduce((a, b) -> a + "; then " + b).orElse(null);
        }
    }

    /** A half's failure and when it was seen (System.nanoTime), to order cause before consequence. */
    record Failure(String reason, long atNanos) {
        static Failure of(String reason) {
            return reason == null ? null : new Failure(reason, System.nanoTime());
        }
    }

    /**
     * Runs one half, then closes its sockets; returns null on success, else a one-line reason naming the
     * side, stamped when the failure was caught (before the close, whose effects the peer may see).
     */
    static Failure runHalf(String sideName, Case.Half half, Side side) {
        try {
            half.run(side);
            return null;
        } catch (CaseFailure e) {
            return Failure.of(sideName + ": " + e.getMessage());
        } catch (IOException e) {
            return Failure.of(sideName + ": " + e.getClass().getSimpleName() + " " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Failure.of(sideName + ": interrupted");
        } catch (Exception | AssertionError e) {
            return Failure.of(sideName + ": " + e);
        } finally {
            side.closeAll();
        }
    }
}
