package io.vsock4j.transport.kernel;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Java side of docs/benchmarks-kernel.md (scripts/bench/bench-kernel.sh runs it in the guest): one
 * STREAM connection through the kernel provider, 64 KiB writes; the receiver prints Gbit/s from its first
 * byte to EOF, in the same format as scripts/bench/vsock_bench.c, plus how long the JIT compiled during
 * the timed transfer ({@code jit_ms}).
 *
 * <p>The measurement is of the steady state, so each side first warms up through the kernel's loopback
 * inside its own JVM (port + 1000 for the receiver, + 2000 for the sender), running the very methods
 * that are timed afterwards ({@link #receive}, {@link #send}), in rounds of
 * {@code -Dvsock4j.bench.warmUpBytes} (default 256 MiB). The rounds go in cycles of three: free-running,
 * with the receiver slowed (the sender meets a full socket: EAGAIN, then poll(2)) and with the sender
 * slowed (the receiver meets an empty one). At least {@value #MIN_WARM_UP_CYCLES} cycles, then until a
 * cycle passes with no JIT compilation, at most {@value #MAX_WARM_UP_CYCLES}. The slowed rounds make
 * sure the full-socket and empty-socket paths are compiled too, whichever pace the other process sets.
 * Why all this: under TCG a C2 compilation takes seconds of a vCPU the transfer needs. With a fixed
 * 1 GiB of warm-up through other code than the timed loop, profile-kernel.sh found C2 at 13% of the
 * guest's samples inside the timed window, and -XX:+PrintCompilation showed the harness's own
 * once-per-transfer loop still interpreted after 18 rounds (hence {@link #receiveBlock} and
 * {@link #sendBlock}).
 *
 * <pre>
 *   KernelThroughput recv PORT
 *   KernelThroughput send CID PORT BYTES
 * </pre>
 */
public final class KernelThroughput {
    private static final int CHUNK = 64 * 1024;
    private static final int BLOCK = 1 << 20;
    private static final long WARM_UP_BYTES = Long.getLong("vsock4j.bench.warmUpBytes", 256L << 20);
    private static final int MIN_WARM_UP_CYCLES = 2;
    private static final int MAX_WARM_UP_CYCLES = 4;
    /** A slowed side sleeps this long after every {@link #PACE_CHUNKS} chunks: about 1 Gbit/s. */
    private static final long PACE_NANOS = 1_000_000;
    private static final int PACE_CHUNKS = 2;
    private static final CompilationMXBean JIT = ManagementFactory.getCompilationMXBean();

    private KernelThroughput() {
    }

    public static void main(String[] args) throws Exception {
        KernelProvider kernel = KernelVsock.provider(); // its sockets refuse to open outside the guest (KernelGuard)
        byte[] buf = new byte[CHUNK];
        if (args.length == 2 && args[0].equals("recv")) {
            warmUp(kernel, Integer.parseInt(args[1]) + 1000);
            try (VsockServerSocket server = VsockServerSocket.bind(kernel, VsockAddress.of(VsockAddress.CID_ANY, Integer.parseInt(args[1])));
                 VsockSocket s = server.accept()) {
                long jitBefore = JIT.getTotalCompilationTime();
                long[] startAndTotal = receive(s.getInputStream(), buf, false);
                long end = System.nanoTime();
                long jitMillis = JIT.getTotalCompilationTime() - jitBefore;
                double secs = (end - startAndTotal[0]) / 1e9;
                // start= is CLOCK_MONOTONIC (System.nanoTime on Linux), for profile-kernel.sh's time window.
                System.out.printf("java-recv bytes=%d seconds=%.3f gbits=%.3f start=%.6f jit_ms=%d%n", startAndTotal[1],
                        secs, startAndTotal[1] * 8 / secs / 1e9, startAndTotal[0] / 1e9, jitMillis);
            }
        } else if (args.length == 4 && args[0].equals("send")) {
            warmUp(kernel, Integer.parseInt(args[2]) + 2000);
            long want = Long.parseLong(args[3]);
            Arrays.fill(buf, (byte) 'v');
            try (VsockSocket s = connectWhenListening(kernel, VsockAddress.of(Integer.parseInt(args[1]), Integer.parseInt(args[2])))) {
                long jitBefore = JIT.getTotalCompilationTime();
                send(s.getOutputStream(), buf, want, false);
                System.err.printf("java-send jit_ms=%d%n", JIT.getTotalCompilationTime() - jitBefore);
            }
        } else {
            System.err.println("usage: KernelThroughput recv PORT | send CID PORT BYTES");
            System.exit(2);
        }
    }

    /**
     * Reads to EOF; returns {nanoTime of the first byte, bytes read}. Timed (never paced), and run by
     * the warm-up (sometimes paced). The loop is in {@link #receiveBlock}, called once per MiB: a loop
     * that runs once per transfer stays interpreted (under TCG, for minutes) until an on-stack
     * replacement, where a method called often is compiled like the code it measures.
     */
    static long[] receive(InputStream in, byte[] buf, boolean paced) throws IOException {
        long[] startAndTotal = new long[2];
        while (receiveBlock(in, buf, paced, startAndTotal)) {
            // next MiB
        }
        return startAndTotal;
    }

    /** Up to {@link #BLOCK} bytes; false at EOF. */
    private static boolean receiveBlock(InputStream in, byte[] buf, boolean paced, long[] startAndTotal) throws IOException {
        for (int reads = 1, got = 0; got < BLOCK; reads++) {
            int n = in.read(buf, 0, CHUNK);
            if (n <= 0) {
                return false;
            }
            if (startAndTotal[1] == 0) {
                startAndTotal[0] = System.nanoTime();
            }
            startAndTotal[1] += n;
            got += n;
            if (paced && reads % PACE_CHUNKS == 0) {
                pause();
            }
        }
        return true;
    }

    /**
     * Writes {@code bytes} in 64 KiB writes. Timed (never paced), and run by the warm-up (sometimes
     * paced); the loop is in {@link #sendBlock}, for the reason given at {@link #receive}.
     */
    static void send(OutputStream out, byte[] buf, long bytes, boolean paced) throws IOException {
        for (long sent = 0; sent < bytes; sent += BLOCK) {
            sendBlock(out, buf, (int) Math.min(BLOCK, bytes - sent), paced);
        }
    }

    private static void sendBlock(OutputStream out, byte[] buf, int bytes, boolean paced) throws IOException {
        for (int sent = 0, writes = 1; sent < bytes; sent += CHUNK, writes++) {
            out.write(buf, 0, Math.min(CHUNK, bytes - sent));
            if (paced && writes % PACE_CHUNKS == 0) {
                pause();
            }
        }
    }

    private static void pause() {
        long until = System.nanoTime() + PACE_NANOS;
        while (System.nanoTime() < until) {
            java.util.concurrent.locks.LockSupport.parkNanos(until - System.nanoTime());
        }
    }

    /**
     * Cycles of three rounds of {@link #WARM_UP_BYTES} from a platform thread to this one over the
     * kernel's CID 1 (free-running, receiver slowed, sender slowed) until the JIT is quiet (see the class
     * comment). Reports the compilation time of each round on stderr.
     */
    private static void warmUp(KernelProvider kernel, int port) throws Exception {
        List<Long> jitPerRound = new ArrayList<>();
        try (VsockServerSocket server = VsockServerSocket.bind(kernel, VsockAddress.of(VsockAddress.CID_ANY, port))) {
            for (int cycle = 0; cycle < MAX_WARM_UP_CYCLES; cycle++) {
                long cycleJit = 0;
                for (int round = 0; round < 3; round++) {
                    boolean slowReceiver = round == 1;
                    boolean slowSender = round == 2;
                    long jitBefore = JIT.getTotalCompilationTime();
                    Thread sender = Thread.ofPlatform().start(() -> {
                        byte[] b = new byte[CHUNK];
                        try (VsockSocket s = VsockSocket.connect(kernel, VsockAddress.local(port))) {
                            send(s.getOutputStream(), b, WARM_UP_BYTES, slowSender);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                    try (VsockSocket s = server.accept()) {
                        receive(s.getInputStream(), new byte[CHUNK], slowReceiver);
                    }
                    sender.join();
                    long jit = JIT.getTotalCompilationTime() - jitBefore;
                    jitPerRound.add(jit);
                    cycleJit += jit;
                }
                if (cycle + 1 >= MIN_WARM_UP_CYCLES && cycleJit == 0) {
                    break;
                }
            }
        }
        System.err.println("warm-up: " + jitPerRound.size() + " rounds of " + (WARM_UP_BYTES >> 20)
                + " MiB, JIT ms per round " + jitPerRound);
    }

    /** The receiver may still be warming up (minutes under TCG): retry a reset connect for up to 300 s. */
    private static VsockSocket connectWhenListening(KernelProvider kernel, VsockAddress to) throws Exception {
        for (int tries = 0; ; tries++) {
            try {
                return VsockSocket.connect(kernel, to);
            } catch (java.net.ConnectException notYet) {
                if (tries == 3000) {
                    throw notYet;
                }
                Thread.sleep(100);
            }
        }
    }
}
