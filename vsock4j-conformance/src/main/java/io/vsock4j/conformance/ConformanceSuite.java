package io.vsock4j.conformance;

import io.vsock4j.VsockAddress;
import io.vsock4j.SocketProvider;

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
 * The vsock conformance suite: the checklist of tools/testing/vsock/vsock_test.c, and the socket-API
 * behaviour vsock4j promises on top (close and interrupt wake blocked calls), as runnable code (not
 * JUnit), so the same cases run against any {@link SocketProvider}: the Java engine on its loopback,
 * two Java machines joined by a link, a machine shared by two processes, the kernel's AF_VSOCK inside a
 * QEMU guest. Each case has a client and a server half ({@link Case}); in one process both halves run on
 * virtual threads and talk over an in-memory {@link Control}; across two processes each runs its half
 * and the control channel is text lines over TCP or vsock ({@link RemoteRun}).
 *
 * <p>Output: one line per case ({@link Verdict#line()}), then {@code N passed, N failed}. Runs on the
 * caller's thread.
 */
public final class ConformanceSuite {
    /** Case n uses port {@code basePort + n}; cases that need more ports add multiples of 10000. */
    public static final int DEFAULT_BASE_PORT = 20_000;
    /** How long one case may take before it fails. */
    static final long CASE_TIMEOUT_MILLIS = 30_000;

    private final Target target;
    private final int basePort;

    /**
     * @param peerCid  where the client half connects; in one process the loopback, {@link VsockAddress#CID_LOCAL}
     * @param basePort the first case's port
     */
    public ConformanceSuite(SocketProvider provider, int peerCid, int basePort) {
        this(Target.of(provider, peerCid), basePort);
    }

    public ConformanceSuite(Target target, int basePort) {
        this.target = target;
        this.basePort = basePort;
    }

    /** Every case, in the order they run; case n (from 1) is {@code cases().get(n - 1)}. */
    public static List<Case> cases() {
        List<Case> all = new ArrayList<>(StreamCases.all());
        all.addAll(SeqpacketCases.all());
        all.addAll(SocketCases.all());
        all.addAll(BlockingCases.all());
        return List.copyOf(all);
    }

    /** Passed, failed and differing (as expected on this kernel) counts. */
    public record Summary(int passed, int failed, int differing) {
        public Summary(int passed, int failed) {
            this(passed, failed, 0);
        }

        /** "N passed, N failed": the closing line test runners look for. */
        public String line() {
            return passed + " passed, " + failed + " failed";
        }

        static Summary of(List<Verdict> verdicts) {
            return new Summary(count(verdicts, Verdict.Outcome.PASS), count(verdicts, Verdict.Outcome.FAIL),
                    count(verdicts, Verdict.Outcome.DIFFERS));
        }

        private static int count(List<Verdict> verdicts, Verdict.Outcome outcome) {
            return (int) verdicts.stream().filter(v -> v.outcome() == outcome).count();
        }

        /** Prints the closing lines: the differences first when there are any, then {@link #line()}. */
        void print(PrintStream out) {
            if (differing > 0) {
                out.println(differing + " differ as expected on this kernel (see the DIFFERS lines)");
            }
            out.println(line());
        }
    }

    /** Runs the cases whose name {@code selected} accepts, both halves in this process. */
    public Summary runInProcess(PrintStream out, Predicate<String> selected) throws InterruptedException {
        List<Verdict> verdicts = new ArrayList<>();
        List<Case> all = cases();
        for (int i = 0; i < all.size(); i++) {
            if (selected.test(all.get(i).name())) {
                Verdict v = runOne(i + 1);
                out.println(v.line());
                verdicts.add(v);
            }
        }
        Summary summary = Summary.of(verdicts);
        summary.print(out);
        return summary;
    }

    /** Runs case {@code number} (from 1), both halves in this process. */
    public Verdict runOne(int number) throws InterruptedException {
        Case c = cases().get(number - 1);
        long start = System.nanoTime();
        String failure = runBoth(c, basePort + number);
        return Verdict.of(number, c, failure, target.kernelShowing(c), (System.nanoTime() - start) / 1_000_000);
    }

    Target target() {
        return target;
    }

    int basePort() {
        return basePort;
    }

    /** The server's or the client's side of a case on {@code port}. */
    Side side(boolean server, int port, Control control) {
        return new Side(server ? target.server() : target.client(), target.peerCid(), port, control);
    }

    /**
     * One case, server and client halves on virtual threads. Null: passed. When a half fails, the other
     * is woken (its sockets closed) and the failures are reported in the order they happened, so the
     * cause comes first and its consequence (say an EPIPE on the other side) after it.
     */
    private String runBoth(Case c, int port) throws InterruptedException {
        Control[] control = Control.pair();
        Side server = side(true, port, control[0]);
        Side client = side(false, port, control[1]);
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
