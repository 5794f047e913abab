package io.vsock4j.cli.proxy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One proxied connection: two ends and one blocking copy per direction, each on its own thread.
 * <ul>
 *   <li>Backpressure: a copy writes a chunk whole before it reads the next, so a peer that stops reading
 *       stops the copy, and the copy's source then fills and stops its sender (TCP window, vsock credit).</li>
 *   <li>Half-close: a copy that reads end-of-stream half-closes the other end ({@link End#shutdownOutput},
 *       SHUTDOWN to FIN or FIN to SHUTDOWN) and ends; the other direction carries on.</li>
 *   <li>Closing: an error in either direction (a reset, a killed peer, a write to a closed end) closes both
 *       ends at once, which wakes the other copy; when both directions have ended, both ends are closed.
 *       {@link #close()} does the same from outside (the proxy stopping).</li>
 * </ul>
 * {@code onClosed} gets the relay once, after both copies have returned.
 *
 * <p>Each copy goes through one direct buffer, a {@link CopyBuffer}: 128 KiB when the copy starts, up to a
 * MiB while the stream is bulk, freed when the copy ends (confined arenas: no waiting for the collector to
 * give native memory back after a thousand connections). Kernel sockets read into it and write from it
 * without a copy in the JVM.
 */
final class Relay {
    private final End a;
    private final End b;
    private final Consumer<Relay> onClosed;
    private final AtomicInteger running = new AtomicInteger(2);
    private final AtomicBoolean closed = new AtomicBoolean();

    Relay(End a, End b, Consumer<Relay> onClosed) {
        this.a = a;
        this.b = b;
        this.onClosed = onClosed;
    }

    /** Copies b to a on {@code other}, a to b on the calling thread; returns when a to b has ended. */
    void run(Executor other) {
        try {
            other.execute(() -> copy(b, a));
        } catch (RejectedExecutionException e) {
            close();
            ended();
        }
        copy(a, b);
    }

    /** Closes both ends now; the copies end with errors that are not reported. */
    void close() {
        if (closed.compareAndSet(false, true)) {
            a.close();
            b.close();
        }
    }

    private void copy(End from, End to) {
        try (CopyBuffer chunks = new CopyBuffer()) {
            ByteChannel in = from.channel();
            ByteChannel out = to.channel();
            while (true) {
                ByteBuffer buf = chunks.forRead();
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    out.write(buf);
                }
                chunks.afterRead(n);
            }
            to.shutdownOutput();
        } catch (IOException | RuntimeException e) {
            close();
        } finally {
            ended();
        }
    }

    private void ended() {
        if (running.decrementAndGet() == 0) {
            close();
            onClosed.accept(this);
        }
    }
}
