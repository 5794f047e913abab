package io.vsock4j.cli.perf;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The measured loops of {@code vsock perf}, the same for every kind of socket: a sender writes
 * {@code bytes} in {@code bufSize} writes, a receiver reads to EOF. Each runs on the calling thread.
 *
 * <p>Both loops can leave a warm-up out of the rate, as iperf3's {@code --omit} does: the first
 * {@code omitNanos} of the run (at most half of it) still move data, but the warm rate counts only what
 * moved after them. A JVM compiles its hot loops during that time (seconds under emulation), while a C
 * program runs at full speed from its first byte. The wire carries nothing but the data, as with
 * vsock_perf, so either end can be vsock_perf itself.
 */
final class Transfer {
    private Transfer() {
    }

    /**
     * A whole run, {@code bytes} in {@code nanos}, of which the first {@code omittedNanos} (moving
     * {@code omittedBytes}) are left out of the warm rate; {@code omitNanos} is what --omit asked for.
     */
    record Result(long bytes, long nanos, long omitNanos, long omittedNanos, long omittedBytes) {
        double gbitPerSecond() {
            return gbit(bytes, nanos);
        }

        /** False when nothing moved after the omitted start (a run of one read, say). */
        boolean hasWarmPart() {
            return bytes > omittedBytes && nanos > omittedNanos;
        }

        long warmBytes() {
            return bytes - omittedBytes;
        }

        long warmNanos() {
            return nanos - omittedNanos;
        }

        double warmGbitPerSecond() {
            return gbit(warmBytes(), warmNanos());
        }

        String describe() {
            return String.format("%d bytes in %.3f s: %.3f Gbit/s", bytes, nanos / 1e9, gbitPerSecond());
        }

        private static double gbit(long bytes, long nanos) {
            return nanos <= 0 ? 0 : bytes * 8.0 / nanos;
        }
    }

    /**
     * Where the omitted start ends. The run's length is known only at its end, and the omitted start is
     * --omit or half the run, whichever is shorter (so that a short run on a fast machine still gets a
     * warm rate); so the loop notes (clock, bytes so far) about every millisecond, at most
     * {@link #CHECKPOINTS} of them: when they are full, every other one goes and the interval doubles.
     * One per loop, on its thread.
     */
    static final class Window {
        static final int CHECKPOINTS = 1024;
        private static final long FIRST_INTERVAL_NANOS = 1_000_000;
        private final long start;
        private final long omitNanos;
        private final long[] times = new long[CHECKPOINTS];
        private final long[] totals = new long[CHECKPOINTS];
        private int count;
        private long intervalNanos = FIRST_INTERVAL_NANOS;
        private long last;

        Window(long start, long omitNanos) {
            this.start = start;
            this.omitNanos = omitNanos;
            this.last = start;
        }

        /** Called after each read or write with the total so far, at {@code now}. */
        void moved(long total, long now) {
            if (omitNanos <= 0 || now - last < intervalNanos) {
                return;
            }
            if (count == CHECKPOINTS) {
                for (int i = 1; i < CHECKPOINTS / 2; i++) {
                    times[i] = times[2 * i];
                    totals[i] = totals[2 * i];
                }
                count = CHECKPOINTS / 2;
                intervalNanos *= 2;
            }
            times[count] = now;
            totals[count] = total;
            count++;
            last = now;
        }

        /** The result of a run that moved {@code total} bytes and ended at {@code end}. */
        Result end(long total, long end) {
            long nanos = end - start;
            long cut = Math.min(omitNanos, nanos / 2);
            if (cut <= 0) {
                return new Result(total, nanos, omitNanos, 0, 0);
            }
            for (int i = 0; i < count; i++) {
                if (times[i] - start >= cut) {
                    return new Result(total, nanos, omitNanos, times[i] - start, totals[i]);
                }
            }
            return new Result(total, nanos, omitNanos, nanos, total); // no note after the cut: no warm part
        }
    }

    /** Writes {@code bytes} bytes in writes of {@code bufSize}; the caller shuts the output afterwards. */
    static Result send(OutputStream out, long bytes, int bufSize, long omitNanos) throws IOException {
        byte[] buf = new byte[bufSize];
        for (int i = 0; i < buf.length; i++) {
            buf[i] = (byte) (i * 31 + 7); // not all zeros, in case some layer is clever
        }
        Window window = new Window(System.nanoTime(), omitNanos);
        long sent = 0;
        while (sent < bytes) {
            int n = (int) Math.min(bytes - sent, bufSize);
            out.write(buf, 0, n);
            sent += n;
            window.moved(sent, System.nanoTime());
        }
        out.flush();
        return window.end(sent, System.nanoTime());
    }

    /** Reads to EOF in reads of {@code bufSize}; the clock starts at the first byte. */
    static Result receive(InputStream in, int bufSize, long omitNanos) throws IOException {
        byte[] buf = new byte[bufSize];
        int n = in.read(buf);
        Window window = new Window(System.nanoTime(), omitNanos);
        long total = 0;
        while (n >= 0) {
            total += n;
            window.moved(total, System.nanoTime());
            n = in.read(buf);
        }
        return window.end(total, System.nanoTime());
    }
}
