package io.vsock4j.cli.perf;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The measured loops of {@code vsock perf}, the same for every kind of socket: a sender writes
 * {@code bytes} in {@code bufSize} writes, a receiver reads to EOF. Each runs on the calling thread.
 */
final class Transfer {
    private Transfer() {
    }

    /** Bytes moved and the nanoseconds it took. */
    record Result(long bytes, long nanos) {
        double gbitPerSecond() {
            return nanos <= 0 ? 0 : bytes * 8.0 / nanos;
        }

        String describe() {
            return String.format("%d bytes in %.3f s: %.3f Gbit/s", bytes, nanos / 1e9, gbitPerSecond());
        }
    }

    /** Writes {@code bytes} bytes in writes of {@code bufSize}; the caller shuts the output afterwards. */
    static Result send(OutputStream out, long bytes, int bufSize) throws IOException {
        byte[] buf = new byte[bufSize];
        for (int i = 0; i < buf.length; i++) {
            buf[i] = (byte) (i * 31 + 7); // not all zeros, in case some layer is clever
        }
        long start = System.nanoTime();
        long left = bytes;
        while (left > 0) {
            int n = (int) Math.min(left, bufSize);
            out.write(buf, 0, n);
            left -= n;
        }
        out.flush();
        return new Result(bytes, System.nanoTime() - start);
    }

    /** Reads to EOF in reads of {@code bufSize}; the clock starts at the first byte, as vsock_perf's. */
    static Result receive(InputStream in, int bufSize) throws IOException {
        byte[] buf = new byte[bufSize];
        int n = in.read(buf);
        long start = System.nanoTime();
        long total = 0;
        while (n >= 0) {
            total += n;
            n = in.read(buf);
        }
        return new Result(total, System.nanoTime() - start);
    }
}
