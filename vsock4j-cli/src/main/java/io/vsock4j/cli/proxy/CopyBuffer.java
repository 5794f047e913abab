package io.vsock4j.cli.proxy;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;

/**
 * The direct buffer one direction of a {@link Relay} copies through, sized to what the stream carries.
 *
 * <p>Why it grows: each read and each write is a call out of the JVM, and in the TCG guest such a call
 * costs far more than the bytes it moves. A bulk stream fills whatever buffer it is given, so the buffer
 * doubles, from {@link #MIN_BYTES} up to {@link #MAX_BYTES}, each time {@link #GROW_AFTER} reads in a row
 * fill it: the relay then pays a pair of calls per MiB instead of per 128 KiB (docs/benchmarks.md, "A
 * relay buffer that grows for bulk streams"). Why it shrinks: a connection that goes back to small
 * messages should not hold a MiB per direction, so after {@link #SHRINK_AFTER} reads in a row that use
 * less than a quarter of it, the buffer halves again, down to {@link #MIN_BYTES}.
 *
 * <p>Each size lives in its own confined arena, freed at once when the size changes and on {@link #close()}.
 * Owner: the relay's copy thread for that direction, alone; not thread-safe.
 */
final class CopyBuffer implements AutoCloseable {
    /** The size a copy starts with: what one read returns from a stream that is not bulk. */
    static final int MIN_BYTES = 128 << 10;
    /** The largest size: 2 MiB per connection at most, both directions. */
    static final int MAX_BYTES = 1 << 20;
    /** Full reads in a row before the buffer doubles. */
    static final int GROW_AFTER = 2;
    /** Reads in a row under a quarter of the buffer before it halves. */
    static final int SHRINK_AFTER = 8;

    private Arena arena;
    private ByteBuffer buffer;
    private int fullInRow;
    private int smallInRow;

    CopyBuffer() {
        allocate(MIN_BYTES);
    }

    /** The buffer, cleared, for the next read. */
    ByteBuffer forRead() {
        return buffer.clear();
    }

    /**
     * Called after every read that returned {@code n} bytes (not end of stream), and after the bytes were
     * written: the buffer may be replaced, so nothing in it survives this call.
     */
    void afterRead(int n) {
        int size = buffer.capacity();
        if (n >= size) {
            smallInRow = 0;
            if (++fullInRow >= GROW_AFTER && size < MAX_BYTES) {
                resize(size * 2);
            }
        } else if (n < size / 4) {
            fullInRow = 0;
            if (++smallInRow >= SHRINK_AFTER && size > MIN_BYTES) {
                resize(size / 2);
            }
        } else {
            fullInRow = 0;
            smallInRow = 0;
        }
    }

    /** The buffer's current size in bytes. */
    int capacity() {
        return buffer.capacity();
    }

    @Override
    public void close() {
        arena.close();
    }

    private void resize(int size) {
        arena.close();
        allocate(size);
    }

    private void allocate(int size) {
        arena = Arena.ofConfined();
        buffer = arena.allocate(size).asByteBuffer();
        fullInRow = 0;
        smallInRow = 0;
    }
}
