package io.vsock4j.transport.kernel;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;

import java.io.Closeable;
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
 * <p>{@code bare-recv} and {@code bare-send} run the same loops over {@link BareVsock} instead of the
 * provider: the C program's blocking read(2)/write(2) made from Java, the floor the provider stands on.
 *
 * <p>A pair of processes makes COUNT transfers in a row (default 1), one line each: the JIT under TCG
 * keeps compiling now and then for minutes ({@code jit_ms}), so later transfers in the same JVM show the
 * steady state that one transfer per JVM can miss.
 *
 * <pre>
 *   KernelThroughput [bare-]recv PORT [COUNT]
 *   KernelThroughput [bare-]send CID PORT BYTES [COUNT]
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
        boolean bare = args.length > 0 && args[0].startsWith("bare-");
        String mode = bare ? args[0].substring("bare-".length()) : args.length > 0 ? args[0] : "";
        // Provider sockets refuse to open outside the guest (KernelGuard); BareVsock refuses there too.
        Ends ends = bare ? Ends.bare() : Ends.provider(KernelVsock.provider());
        String name = bare ? "bare" : "java";
        byte[] buf = new byte[CHUNK];
        if ((args.length == 2 || args.length == 3) && mode.equals("recv")) {
            int count = args.length == 3 ? Integer.parseInt(args[2]) : 1;
            warmUp(ends, Integer.parseInt(args[1]) + 1000);
            try (Listener server = ends.listen(Integer.parseInt(args[1]))) {
                for (int i = 0; i < count; i++) {
                    try (Connection s = server.accept()) {
                        long jitBefore = JIT.getTotalCompilationTime();
                        long[] startAndTotal = receive(s.in(), buf, false);
                        long end = System.nanoTime();
                        long jitMillis = JIT.getTotalCompilationTime() - jitBefore;
                        double secs = (end - startAndTotal[0]) / 1e9;
                        // start= is CLOCK_MONOTONIC (System.nanoTime on Linux), for profile-kernel.sh's window.
                        System.out.printf("%s-recv bytes=%d seconds=%.3f gbits=%.3f start=%.6f jit_ms=%d%n", name,
                                startAndTotal[1], secs, startAndTotal[1] * 8 / secs / 1e9, startAndTotal[0] / 1e9, jitMillis);
                    }
                }
            }
        } else if ((args.length == 4 || args.length == 5) && mode.equals("send")) {
            int count = args.length == 5 ? Integer.parseInt(args[4]) : 1;
            warmUp(ends, Integer.parseInt(args[2]) + 2000);
            long want = Long.parseLong(args[3]);
            Arrays.fill(buf, (byte) 'v');
            for (int i = 0; i < count; i++) {
                try (Connection s = connectWhenListening(ends, Integer.parseInt(args[1]), Integer.parseInt(args[2]))) {
                    long jitBefore = JIT.getTotalCompilationTime();
                    send(s.out(), buf, want, false);
                    System.err.printf("%s-send jit_ms=%d%n", name, JIT.getTotalCompilationTime() - jitBefore);
                }
            }
        } else {
            System.err.println("usage: KernelThroughput [bare-]recv PORT [COUNT] | [bare-]send CID PORT BYTES [COUNT]");
            System.exit(2);
        }
    }

    /**
     * How a side opens its end of the transfer: through the kernel provider ({@code recv}/{@code send}),
     * or as {@link BareVsock}, the JVM floor under it ({@code bare-recv}/{@code bare-send}). The timed
     * loops are the same for both.
     */
    interface Ends {
        Listener listen(int port) throws IOException;

        Connection connect(int cid, int port) throws IOException;

        static Ends provider(KernelProvider kernel) {
            return new Ends() {
                @Override
                public Listener listen(int port) throws IOException {
                    VsockServerSocket server = VsockServerSocket.bind(kernel, VsockAddress.of(VsockAddress.CID_ANY, port));
                    return new Listener() {
                        @Override
                        public Connection accept() throws IOException {
                            return of(server.accept());
                        }

                        @Override
                        public void close() throws IOException {
                            server.close();
                        }
                    };
                }

                @Override
                public Connection connect(int cid, int port) throws IOException {
                    return of(VsockSocket.connect(kernel, VsockAddress.of(cid, port)));
                }

                private Connection of(VsockSocket s) throws IOException {
                    return new Connection(s.getInputStream(), s.getOutputStream(), s);
                }
            };
        }

        static Ends bare() {
            return new Ends() {
                @Override
                public Listener listen(int port) throws IOException {
                    BareVsock.Listener server = BareVsock.listen(port, CHUNK);
                    return new Listener() {
                        @Override
                        public Connection accept() throws IOException {
                            BareVsock c = server.accept();
                            return new Connection(c.in(), c.out(), c);
                        }

                        @Override
                        public void close() {
                            server.close();
                        }
                    };
                }

                @Override
                public Connection connect(int cid, int port) throws IOException {
                    BareVsock c = BareVsock.connect(cid, port, CHUNK);
                    return new Connection(c.in(), c.out(), c);
                }
            };
        }
    }

    interface Listener extends Closeable {
        Connection accept() throws IOException;
    }

    /** One connection's streams; closing it closes the socket (a sender's close is the receiver's EOF). */
    record Connection(InputStream in, OutputStream out, Closeable socket) implements Closeable {
        @Override
        public void close() throws IOException {
            socket.close();
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
    private static void warmUp(Ends ends, int port) throws Exception {
        List<Long> jitPerRound = new ArrayList<>();
        try (Listener server = ends.listen(port)) {
            for (int cycle = 0; cycle < MAX_WARM_UP_CYCLES; cycle++) {
                long cycleJit = 0;
                for (int round = 0; round < 3; round++) {
                    boolean slowReceiver = round == 1;
                    boolean slowSender = round == 2;
                    long jitBefore = JIT.getTotalCompilationTime();
                    Thread sender = Thread.ofPlatform().start(() -> {
                        byte[] b = new byte[CHUNK];
                        try (Connection s = ends.connect(VsockAddress.CID_LOCAL, port)) {
                            send(s.out(), b, WARM_UP_BYTES, slowSender);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                    try (Connection s = server.accept()) {
                        receive(s.in(), new byte[CHUNK], slowReceiver);
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
    private static Connection connectWhenListening(Ends ends, int cid, int port) throws Exception {
        for (int tries = 0; ; tries++) {
            try {
                return ends.connect(cid, port);
            } catch (java.net.ConnectException notYet) {
                if (tries == 3000) {
                    throw notYet;
                }
                Thread.sleep(100);
            }
        }
    }
}
