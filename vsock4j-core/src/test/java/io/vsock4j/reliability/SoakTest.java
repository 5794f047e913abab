package io.vsock4j.reliability;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;
import io.vsock4j.testing.SharedDaemons;
import io.vsock4j.transport.shared.SharedMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Soak: connections churn (connect, transfer, close, and now and then a reset or a refused connect) on
 * the Java loopback and across a shared machine's daemon, for {@code -Dvsock4j.soak.seconds} (60 in CI;
 * docs/reliability.md has the 30-minute command). Every {@code -Dvsock4j.soak.sample.seconds} (10) the
 * churn pauses until no connection is left, and the test samples what a leak would grow: platform
 * threads, file descriptors, bound ports, live connections and heap after GC. The first sample, taken
 * after the JIT and the pools have warmed up, is the baseline; every later one must stay within a small
 * allowance of it, and connections and extra bound ports must be zero.
 *
 * <p>Threads: {@link #WORKERS} virtual threads per machine pair churn as clients; each listener
 * accepts on a virtual thread and serves each connection on another. The test thread samples. Every
 * blocking call has a timeout, so nothing here can hang past the run; the seed is printed with every
 * failure ({@code -Dvsock4j.soak.seed=N} replays one).
 */
@Timeout(value = 45, unit = TimeUnit.MINUTES) // the 30-minute run; each call below has its own timeout
class SoakTest {
    private static final int WORKERS = 8;
    private static final int PORT = 7000;
    private static final int NO_LISTENER_PORT = 7001;
    private static final int MAX_BYTES = 256 * 1024;
    private static final int IO_TIMEOUT_MILLIS = 30_000;
    /** Growth allowed over the baseline: a JVM's own threads and descriptors come and go a little. */
    private static final int THREAD_ALLOWANCE = 3;
    private static final int FD_ALLOWANCE = 4;
    private static final long HEAP_ALLOWANCE_BYTES = 16L * 1024 * 1024;

    @TempDir
    Path tmp;

    private final long seed = Long.getLong("vsock4j.soak.seed", System.nanoTime());
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong transfers = new AtomicLong();
    /** Of {@link #transfers}, those across the shared machine's daemon. */
    private final AtomicLong sharedTransfers = new AtomicLong();
    private volatile Machine sharedClientMachine;
    private final AtomicLong resets = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    /** What a leak would grow, sampled with the churn paused and no connection left. */
    private record Sample(long second, int threads, long fds, int bound, int connections, long heapBytes) {
        @Override
        public String toString() {
            return String.format("t=%ds threads=%d fds=%d bound=%d connections=%d heap=%.1f MiB",
                    second, threads, fds, bound, connections, heapBytes / 1048576.0);
        }
    }

    @Test
    void churnOnTheLoopbackAndAcrossASharedMachineLeaksNothing() throws Exception {
        long seconds = Long.getLong("vsock4j.soak.seconds", 60);
        long sampleSeconds = Long.getLong("vsock4j.soak.sample.seconds", 10);
        // A private rendezvous directory of the test's own, so its daemon is not the user's.
        Path dir = Files.createDirectory(tmp.resolve("machine"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try (Machine loopback = Machines.loopback();
             Machine sharedServer = SharedMachine.connect(dir, Duration.ofSeconds(5));
             Machine sharedClient = SharedMachine.connect(dir, Duration.ofSeconds(5));
             VsockServerSocket loopbackListener = VsockServerSocket.bind(loopback, VsockAddress.of(VsockAddress.CID_ANY, PORT));
             VsockServerSocket sharedListener = VsockServerSocket.bind(sharedServer, VsockAddress.of(VsockAddress.CID_ANY, PORT))) {
            List<Machine> machines = List.of(loopback, sharedServer, sharedClient);
            sharedClientMachine = sharedClient;
            serve(loopbackListener);
            serve(sharedListener);
            Pause pause = new Pause();
            List<Thread> workers = new ArrayList<>();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            SplittableRandom seeds = new SplittableRandom(seed);
            for (int i = 0; i < WORKERS; i++) {
                workers.add(churn(loopback, seeds.split(), pause, end));
                workers.add(churn(sharedClient, seeds.split(), pause, end));
            }
            List<Sample> samples = new ArrayList<>();
            long start = System.nanoTime();
            while (System.nanoTime() < end && failure.get() == null) {
                long next = Math.min(end, System.nanoTime() + TimeUnit.SECONDS.toNanos(sampleSeconds));
                while (System.nanoTime() < next && failure.get() == null) {
                    Thread.sleep(100); // the churn runs meanwhile; nothing is asserted on this clock
                }
                pause.stop(workers.size());
                awaitNoConnections(machines);
                samples.add(sample(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start), machines));
                System.out.println("soak " + samples.getLast() + " transfers=" + transfers + " (shared machine "
                        + sharedTransfers + ") resets=" + resets + " refused=" + refused);
                pause.resume();
            }
            for (Thread w : workers) {
                assertThat(w.join(Duration.ofSeconds(IO_TIMEOUT_MILLIS / 1000 + 30))).as("worker %s ended", w).isTrue();
            }
            assertThat(failure.get()).as("seed %d: a churn failed", seed).isNull();
            assertThat(sharedTransfers.get()).as("transfers across the shared machine").isPositive();
            assertThat(transfers.get() - sharedTransfers.get()).as("transfers on the loopback").isPositive();
            check(samples);
        } finally {
            SharedDaemons.end(dir);
        }
    }

    private void check(List<Sample> samples) {
        for (Sample s : samples) {
            String where = "seed " + seed + ", sample " + s;
            assertThat(s.connections()).as(where + ": connections left with the churn paused").isZero();
            assertThat(s.bound()).as(where + ": only the two listeners bound").isEqualTo(2);
        }
        assertThat(samples).as("seed %d: at least two samples", seed).hasSizeGreaterThanOrEqualTo(2);
        Sample base = samples.getFirst();
        for (Sample s : samples) {
            String where = "seed " + seed + ", baseline " + base + ", sample " + s;
            assertThat(s.threads()).as(where + ": platform threads").isLessThanOrEqualTo(base.threads() + THREAD_ALLOWANCE);
            assertThat(s.fds()).as(where + ": file descriptors").isLessThanOrEqualTo(base.fds() + FD_ALLOWANCE);
            assertThat(s.heapBytes()).as(where + ": heap after GC").isLessThanOrEqualTo(base.heapBytes() + HEAP_ALLOWANCE_BYTES);
        }
    }

    /** Accepts forever on a virtual thread; each connection: read to EOF, answer the CRC32 and the count, close. */
    private void serve(VsockServerSocket listener) {
        Thread.ofVirtual().name("soak accept " + listener.getLocalAddress()).start(() -> {
            while (true) {
                VsockSocket s;
                try {
                    s = listener.accept();
                } catch (IOException closed) {
                    return; // the listener closed at the end of the run
                }
                Thread.ofVirtual().start(() -> answer(s));
            }
        });
    }

    private void answer(VsockSocket s) {
        try (s) {
            s.setSoTimeout(IO_TIMEOUT_MILLIS);
            CRC32 crc = new CRC32();
            long count = 0;
            InputStream in = s.getInputStream();
            byte[] buf = new byte[16 * 1024];
            for (int n; (n = in.read(buf)) >= 0; ) {
                crc.update(buf, 0, n);
                count += n;
            }
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeLong(crc.getValue());
            out.writeLong(count);
        } catch (IOException e) {
            // A client that closed early (one in 16 do) makes the answer fail: expected.
        }
    }

    /** A client churning until {@code end}: mostly whole transfers, checked; some resets and refused connects. */
    private Thread churn(Machine machine, SplittableRandom random, Pause pause, long end) {
        return Thread.ofVirtual().name("soak client " + machine).start(() -> {
            try {
                while (System.nanoTime() < end && failure.get() == null) {
                    pause.checkpoint();
                    int kind = random.nextInt(16);
                    if (kind == 0) {
                        resetMidStream(machine, random);
                    } else if (kind == 1) {
                        connectWhereNobodyListens(machine);
                    } else {
                        transfer(machine, random);
                    }
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                pause.leave();
            }
        });
    }

    private void transfer(Machine machine, SplittableRandom random) throws IOException {
        byte[] data = new byte[random.nextInt(MAX_BYTES + 1)];
        random.nextBytes(data);
        try (VsockSocket s = connect(machine, PORT)) {
            s.setSoTimeout(IO_TIMEOUT_MILLIS);
            s.setSendTimeout(IO_TIMEOUT_MILLIS);
            s.getOutputStream().write(data);
            s.shutdownOutput();
            DataInputStream in = new DataInputStream(s.getInputStream());
            long crc = in.readLong();
            long count = in.readLong();
            CRC32 expected = new CRC32();
            expected.update(data);
            if (count != data.length || crc != expected.getValue()) {
                throw new AssertionError("seed " + seed + ": the listener got " + count + " bytes (CRC " + Long.toHexString(crc)
                        + "), " + data.length + " were sent (CRC " + Long.toHexString(expected.getValue()) + ")");
            }
            if (in.read() != -1) {
                throw new AssertionError("seed " + seed + ": bytes after the answer");
            }
        }
        transfers.incrementAndGet();
        if (machine == sharedClientMachine) {
            sharedTransfers.incrementAndGet();
        }
    }

    /** Sends half a transfer and closes without reading the answer: the listener sees EOF early, and its answer fails. */
    private void resetMidStream(Machine machine, SplittableRandom random) throws IOException {
        byte[] data = new byte[random.nextInt(1, MAX_BYTES + 1)];
        try (VsockSocket s = connect(machine, PORT)) {
            s.setSendTimeout(IO_TIMEOUT_MILLIS);
            s.getOutputStream().write(data, 0, data.length / 2);
        } // closed without shutting output or reading the answer
        resets.incrementAndGet();
    }

    private void connectWhereNobodyListens(Machine machine) {
        try (VsockSocket s = connect(machine, NO_LISTENER_PORT)) {
            throw new AssertionError("seed " + seed + ": connected to port " + NO_LISTENER_PORT + ", where nobody listens: " + s);
        } catch (ConnectException e) {
            if (!e.getMessage().contains("ECONNRESET")) {
                throw new AssertionError("seed " + seed + ": a refused connect said " + e.getMessage(), e);
            }
            refused.incrementAndGet();
        } catch (IOException e) {
            throw new AssertionError("seed " + seed + ": a refused connect threw " + e, e);
        }
    }

    /**
     * Connects to (CID 1, {@code port}) within {@link #IO_TIMEOUT_MILLIS}, not the kernel's 2 s: a
     * 30-minute run on a machine shared with other builds once had a connect through the daemon take
     * longer while both were starved of CPU, which is not what a leak check is about.
     */
    private static VsockSocket connect(Machine machine, int port) throws IOException {
        VsockSocket s = VsockSocket.open(machine);
        try {
            s.connect(VsockAddress.of(VsockAddress.CID_LOCAL, port), IO_TIMEOUT_MILLIS);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    private static void awaitNoConnections(List<Machine> machines) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (machines.stream().mapToInt(Machine::connectionCount).sum() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    private static Sample sample(long second, List<Machine> machines) {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return new Sample(second,
                ManagementFactory.getThreadMXBean().getThreadCount(),
                openFds(),
                machines.stream().mapToInt(Machine::boundCount).sum(),
                machines.stream().mapToInt(Machine::connectionCount).sum(),
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }

    private static long openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Stops the clients between two of their connections so the test can sample with nothing open: the
     * sampler waits until every live worker has reached its checkpoint (or ended).
     */
    private static final class Pause {
        private final Object lock = new Object();
        private boolean paused;
        private int parked;
        private int left;

        void stop(int workers) throws InterruptedException {
            synchronized (lock) {
                paused = true;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(IO_TIMEOUT_MILLIS / 1000 + 30);
                while (parked + left < workers) {
                    long waitMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (waitMillis <= 0) {
                        throw new AssertionError("the clients did not reach their checkpoints: " + parked + " parked, "
                                + left + " ended of " + workers);
                    }
                    lock.wait(waitMillis);
                }
            }
        }

        void resume() {
            synchronized (lock) {
                paused = false;
                lock.notifyAll();
            }
        }

        void checkpoint() throws InterruptedException {
            synchronized (lock) {
                if (!paused) {
                    return;
                }
                parked++;
                lock.notifyAll();
                while (paused) {
                    lock.wait();
                }
                parked--;
            }
        }

        void leave() {
            synchronized (lock) {
                left++;
                lock.notifyAll();
            }
        }
    }
}
