package io.vsock4j.cli.nc;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * How {@code vsock nc} cuts local bytes into what it sends, and writes back what it receives. A STREAM
 * connection moves chunks as they come (binary passes unchanged); a SEQPACKET connection sends each
 * line as one message, without its newline, and writes each message received as one line.
 *
 * <p>A {@link Source} and a {@link Sink} are each used by one thread at a time.
 */
final class Units {
    /** Chunk size for STREAM copies: one full virtio-vsock packet. */
    static final int CHUNK_BYTES = 64 * 1024;

    private Units() {
    }

    /** Reads units from a local stream (stdin, a process's stdout). */
    interface Source {
        /** Reads the next unit into {@link #buffer()}; returns its length, or -1 at EOF. */
        int next() throws IOException;

        /** The unit just read, in {@code buffer()[0, length)}. */
        byte[] buffer();
    }

    /** Writes units to a local stream (stdout, a process's stdin), flushing each. */
    @FunctionalInterface
    interface Sink {
        void write(byte[] b, int off, int len) throws IOException;
    }

    static Source chunks(InputStream in) {
        byte[] buf = new byte[CHUNK_BYTES];
        return new Source() {
            @Override
            public int next() throws IOException {
                int n;
                do {
                    n = in.read(buf, 0, buf.length);
                } while (n == 0);
                return n;
            }

            @Override
            public byte[] buffer() {
                return buf;
            }
        };
    }

    /** Lines without their '\n'; a last line without one counts too. Binary bytes pass unchanged. */
    static Source lines(InputStream in) {
        BufferedInputStream buffered = new BufferedInputStream(in, CHUNK_BYTES);
        return new Source() {
            private byte[] buf = new byte[256];

            @Override
            public int next() throws IOException {
                int n = 0;
                int b;
                while ((b = buffered.read()) >= 0 && b != '\n') {
                    if (n == buf.length) {
                        buf = Arrays.copyOf(buf, n * 2);
                    }
                    buf[n++] = (byte) b;
                }
                return b < 0 && n == 0 ? -1 : n;
            }

            @Override
            public byte[] buffer() {
                return buf;
            }
        };
    }

    static Sink raw(OutputStream out) {
        return (b, off, len) -> {
            out.write(b, off, len);
            out.flush();
        };
    }

    static Sink lines(OutputStream out) {
        return (b, off, len) -> {
            out.write(b, off, len);
            out.write('\n');
            out.flush();
        };
    }
}
