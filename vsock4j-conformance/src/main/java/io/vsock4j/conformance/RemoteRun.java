package io.vsock4j.conformance;

import io.vsock4j.SocketProvider;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSocket;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The suite across two processes, as vsock_test runs: one side runs every server half, the other every
 * client half, and they keep step over a control connection of text lines ({@link LineControl}): TCP as
 * vsock_test's, or vsock where the two share no network, as a QEMU guest and the JVM that runs its vsock
 * device (the guest connects to a control port of the JVM's, CID 2: {@link #connectControl(SocketProvider,
 * VsockAddress)}). Both first send {@code PLAN} (the cases they will run, which must agree) and
 * {@code KERNEL release} ({@code -} for a Java engine). Per case both send {@code BEGIN n},
 * run their half, and send {@code END n ok} or {@code END n fail REASON}; the case passes when both
 * said ok. When the peer ends first, the own half gets a short grace and is then woken by closing its
 * sockets, so one stuck side cannot hang the run.
 *
 * <p>Runs on the caller's thread; each half on a virtual thread.
 */
public final class RemoteRun {
    /** How long a half may go on after the peer ended the case. */
    private static final long GRACE_MILLIS = 2_000;

    private final ConformanceSuite suite;
    private final boolean server;

    /** @param server true to run the server halves, false for the client halves */
    public RemoteRun(ConformanceSuite suite, boolean server) {
        this.suite = suite;
        this.server = server;
    }

    /** Server side: waits (up to the control timeout) for the client to connect to {@code control}. */
    public static Socket acceptControl(InetSocketAddress control) throws IOException {
        try (ServerSocket listener = new ServerSocket()) {
            listener.setReuseAddress(true);
            listener.bind(control, 1);
            listener.setSoTimeout((int) Control.TIMEOUT_MILLIS * 4);
            return listener.accept();
        }
    }

    /** Client side: connects to the server's control port, retrying while the server is not up yet. */
    public static Socket connectControl(InetSocketAddress control) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Control.TIMEOUT_MILLIS);
        while (true) {
            Socket s = new Socket();
            try {
                s.connect(control, (int) Control.TIMEOUT_MILLIS);
                return s;
            } catch (java.net.ConnectException notYet) {
                s.close();
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(100);
            }
        }
    }

    /**
     * Client side over vsock: connects to the control port at {@code control} (the JVM that listens, CID 2
     * from a guest), retrying while nothing listens there yet (the connect is reset) for up to the control
     * timeout.
     */
    public static VsockSocket connectControl(SocketProvider provider, VsockAddress control)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Control.TIMEOUT_MILLIS);
        while (true) {
            try {
                return VsockSocket.connect(provider, control);
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(100);
            }
        }
    }

    /** Runs the selected cases with the peer on the other end of the TCP {@code controlSocket}, which it closes. */
    public ConformanceSuite.Summary run(Socket controlSocket, PrintStream out, Predicate<String> selected)
            throws IOException, InterruptedException {
        return run(LineControl.tcp(controlSocket), out, selected);
    }

    /** Runs the selected cases with the peer on the other end of the vsock {@code controlSocket}, which it closes. */
    public ConformanceSuite.Summary run(VsockSocket controlSocket, PrintStream out, Predicate<String> selected)
            throws IOException, InterruptedException {
        return run(LineControl.vsock(controlSocket), out, selected);
    }

    private ConformanceSuite.Summary run(LineControl lines, PrintStream out, Predicate<String> selected)
            throws IOException, InterruptedException {
        List<Case> all = ConformanceSuite.cases();
        try (LineControl control = lines) {
            String plan = "PLAN " + planOf(all, selected);
            control.send(plan);
            String peerPlan = control.receive();
            if (!plan.equals(peerPlan)) {
                throw new IOException("the peer runs other cases (its vsock4j or --filter differs): " + peerPlan);
            }
            Target target = withPeerKernel(control);
            List<Verdict> verdicts = new java.util.ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                if (!selected.test(all.get(i).name())) {
                    continue;
                }
                long start = System.nanoTime();
                String failure = runCase(control, all.get(i), i + 1);
                Verdict v = Verdict.of(i + 1, all.get(i), failure, target.kernelShowing(all.get(i)),
                        (System.nanoTime() - start) / 1_000_000);
                out.println(v.line());
                verdicts.add(v);
            }
            ConformanceSuite.Summary summary = ConformanceSuite.Summary.of(verdicts);
            summary.print(out);
            return summary;
        }
    }

    /**
     * Tells the peer this side's kernel and learns the peer's ({@code KERNEL release}, {@code KERNEL -} for
     * a Java engine): a {@link KernelDifference} turns on the kernel that runs the half it lies in, which
     * may be the peer's.
     */
    private Target withPeerKernel(LineControl control) throws IOException {
        Target own = suite.target();
        String mine = own.kernelOf(server ? KernelDifference.Half.SERVER : KernelDifference.Half.CLIENT);
        control.send("KERNEL " + (mine == null ? "-" : mine));
        String line = control.receive();
        if (!line.startsWith("KERNEL ")) {
            throw new IOException("control: expected the peer's KERNEL line (an older vsock4j?), got '" + line + "'");
        }
        String theirs = line.substring("KERNEL ".length());
        return own.withPeerKernel(server, theirs.equals("-") ? null : theirs);
    }

    private static String planOf(List<Case> all, Predicate<String> selected) {
        StringBuilder numbers = new StringBuilder();
        for (int i = 0; i < all.size(); i++) {
            if (selected.test(all.get(i).name())) {
                numbers.append(numbers.isEmpty() ? "" : ",").append(i + 1);
            }
        }
        return all.size() + " " + Integer.toHexString(all.stream().map(Case::name).toList().hashCode()) + " " + numbers;
    }

    /** One case; null when both sides passed, else the reasons. */
    private String runCase(LineControl control, Case c, int number) throws IOException, InterruptedException {
        control.send("BEGIN " + number);
        String line;
        do {
            line = control.receive(); // lines left over from the previous case come first
        } while (!line.equals("BEGIN " + number));

        Side side = suite.side(server, suite.basePort() + number, control);
        String mine;
        String peerEnd = null;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            String name = server ? "server" : "client";
            Future<ConformanceSuite.Failure> half = pool.submit(() -> ConformanceSuite.runHalf(name, server ? c.server() : c.client(), side));
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ConformanceSuite.CASE_TIMEOUT_MILLIS);
            while (!half.isDone() && peerEnd == null && System.nanoTime() < deadline) {
                peerEnd = control.pollEnd(50);
            }
            mine = finish(half, side, peerEnd != null);
        }
        control.send("END " + number + (mine == null ? " ok" : " fail " + mine));
        while (peerEnd == null) {
            peerEnd = control.pollEnd(ConformanceSuite.CASE_TIMEOUT_MILLIS);
            if (peerEnd == null) {
                return join(mine, "peer: no verdict within " + ConformanceSuite.CASE_TIMEOUT_MILLIS + " ms");
            }
        }
        String prefix = "END " + number + " ";
        if (!peerEnd.startsWith(prefix)) {
            throw new IOException("control: out of step, expected '" + prefix + "...', got '" + peerEnd + "'");
        }
        String theirs = peerEnd.substring(prefix.length());
        return join(mine, theirs.equals("ok") ? null : theirs.replaceFirst("^fail ", ""));
    }

    /** Waits for the own half: briefly when the peer already ended, then wakes it by closing its sockets. */
    private static String finish(Future<ConformanceSuite.Failure> half, Side side, boolean peerEnded)
            throws InterruptedException {
        try {
            ConformanceSuite.Failure failure = half.get(peerEnded ? GRACE_MILLIS : 0, TimeUnit.MILLISECONDS);
            return failure == null ? null : failure.reason();
        } catch (java.util.concurrent.TimeoutException stuck) {
            side.closeAll();
            half.cancel(true);
            return (peerEnded ? "still running when the peer ended the case" : "timed out after "
                    + ConformanceSuite.CASE_TIMEOUT_MILLIS + " ms");
        } catch (ExecutionException e) {
            return "error: " + e.getCause();
        }
    }

    private static String join(String mine, String theirs) {
        if (mine == null) {
            return theirs;
        }
        return theirs == null ? mine : mine + "; " + theirs;
    }
}
