package io.vsock4j.engine;

import io.vsock4j.wire.PayloadPool;
import io.vsock4j.wire.VirtioVsock;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * The bytes a connection has received and its reader has not yet consumed, in arrival order.
 *
 * <p>Each RW payload is kept as it arrived (no copy) as one chunk, except small payloads (at most
 * {@link VirtioVsock#GOOD_COPY_LEN_BYTES}), which are copied into the room left in the last chunk, as
 * Linux does, so that a peer sending one-byte packets cannot make the queue hold one object per byte.
 * A merge chunk that stops being the last while more than GOOD_COPY_LEN of its room is unused is cut
 * to its bytes, so every chunk but the last is at least 7/8 full. With credit bounding the payload
 * bytes to {@code buf_alloc}, the arrays held stay within 8/7 of the buffer size plus one merge chunk
 * (and the consumed part of a head chunk being read).
 *
 * <p>For SEQPACKET, a chunk that ends a message carries the packet's SEQ_EOM (and SEQ_EOR) flags, and
 * nothing is ever merged behind such a chunk, so message boundaries are chunk boundaries. A stream read
 * gathers across chunks; a message read takes chunks up to and including the next end of message.
 *
 * <p>A payload array the queue kept is released to {@link PayloadPool} once the reader has consumed it
 * all; nothing else references it by then (the packet that carried it is gone).
 *
 * <p>Guarded by the owning connection's lock, with one exception that lets the reader's copy run
 * while packets keep arriving: {@link #claim} (under the lock) records where the first bytes lie,
 * {@link #copyClaimed} copies them with the lock released, and {@link #commitClaimed} (under the lock
 * again) consumes them. That is safe because only the reader takes bytes from the head (the connection
 * serializes readers), arrivals only append, and a merge into the last chunk writes only past the bytes
 * claimed; a {@link #clear} during the copy leaves the claimed arrays to the garbage collector instead
 * of the pool, so no sender can refill an array under the copy.
 */
final class ReceiveQueue {
    /** Room allocated for merged small payloads: one small array instead of many tiny ones. */
    private static final int MERGE_CHUNK_BYTES = 1024;

    private static final class Chunk {
        byte[] data;
        int start;
        int end;
        int seqFlags;
        /** True when {@code data} was allocated here, so the room after {@code end} is ours to fill. */
        boolean mergeable;
    }

    private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();
    private int bytes;
    private int messages;

    /**
     * The claim: where the head chunk's first bytes lie, read by the copy outside the lock. A claim is
     * outstanding while {@code claimedData} is set; {@link #clear} must then not pool the arrays.
     */
    private byte[] claimedData;
    private int claimedStart;
    private int claimedLength;
    /** {@link #clear} ran while a claim was outstanding: its commit consumes nothing. */
    private boolean clearedUnderClaim;

    /** Payload bytes queued. */
    int bytes() {
        return bytes;
    }

    /** Complete SEQPACKET messages queued. */
    int messages() {
        return messages;
    }

    boolean isEmpty() {
        return bytes == 0 && messages == 0;
    }

    /** Bytes of heap arrays the queue holds (for the memory bound). */
    long retainedBytes() {
        long total = 0;
        for (Chunk c : chunks) {
            total += c.data.length;
        }
        return total;
    }

    /** Queues {@code len} bytes of a packet's payload, taking ownership of the array when it keeps it. */
    void enqueue(byte[] payload, int offset, int len, int seqFlags) {
        Chunk last = chunks.peekLast();
        if (len <= VirtioVsock.GOOD_COPY_LEN_BYTES && last != null && last.mergeable
                && (last.seqFlags & VirtioVsock.SEQ_EOM) == 0 && last.data.length - last.end >= len) {
            System.arraycopy(payload, offset, last.data, last.end, len);
            last.end += len;
            last.seqFlags = seqFlags;
        } else {
            if (last != null && last.mergeable && last.data.length - last.end > VirtioVsock.GOOD_COPY_LEN_BYTES) {
                // Nothing merges into it any more, and most of its room is unused (small payloads between
                // large ones, one-byte messages): keep only its bytes, or the queue would hold a
                // MERGE_CHUNK_BYTES array per byte. A reader's claim is never on a merge chunk this small
                // (it claims only chunks of Connection.UNLOCKED_COPY_MIN_BYTES), and offsets are kept.
                last.data = Arrays.copyOf(last.data, last.end);
            }
            Chunk c = new Chunk();
            if (len <= VirtioVsock.GOOD_COPY_LEN_BYTES) {
                c.data = new byte[MERGE_CHUNK_BYTES];
                System.arraycopy(payload, offset, c.data, 0, len);
                c.end = len;
                c.mergeable = true;
            } else {
                c.data = payload;
                c.start = offset;
                c.end = offset + len;
            }
            c.seqFlags = seqFlags;
            chunks.addLast(c);
        }
        bytes += len;
        if ((seqFlags & VirtioVsock.SEQ_EOM) != 0) {
            messages++;
        }
    }

    /**
     * Stream read: copies up to {@code len} bytes across chunks into {@code dst} from its index
     * {@code off} on (absolute: the buffer's position is not used, heap or direct alike).
     *
     * @param peek leave the bytes queued
     * @return bytes copied
     */
    int readStream(ByteBuffer dst, int off, int len, boolean peek) {
        int copied = 0;
        var it = chunks.iterator();
        while (copied < len && it.hasNext()) {
            Chunk c = it.next();
            int n = Math.min(len - copied, c.end - c.start);
            dst.put(off + copied, c.data, c.start, n);
            copied += n;
            if (!peek) {
                c.start += n;
                if (c.start == c.end) {
                    it.remove();
                    release(c);
                }
            }
        }
        if (!peek) {
            bytes -= copied;
        }
        return copied;
    }

    /**
     * Message read: copies the first queued message, or as much of it as fits, into {@code dst}; the
     * rest of a message that does not fit is discarded (unless peeking). Requires {@link #messages()} > 0.
     *
     * @param info receives the message's full length and SEQ_EOR
     * @return the message's full length in bytes (what it held, not what was copied)
     */
    int readMessage(ByteBuffer dst, int off, int len, boolean peek, MessageBounds info) {
        int total = 0;
        int copied = 0;
        int flags = 0;
        var it = chunks.iterator();
        while (it.hasNext()) {
            Chunk c = it.next();
            int size = c.end - c.start;
            int n = Math.min(len - copied, size);
            if (n > 0) {
                dst.put(off + copied, c.data, c.start, n);
                copied += n;
            }
            total += size;
            flags = c.seqFlags;
            if (!peek) {
                it.remove();
                release(c);
            }
            if ((c.seqFlags & VirtioVsock.SEQ_EOM) != 0) {
                break;
            }
        }
        if (!peek) {
            bytes -= total;
            messages--;
        }
        info.messageBytes = total;
        info.copiedBytes = copied;
        info.endOfRecord = (flags & VirtioVsock.SEQ_EOR) != 0;
        return total;
    }

    /** Bytes in the head chunk (0 when empty): a reader copies without the lock only when it is large. */
    int headChunkBytes() {
        Chunk c = chunks.peekFirst();
        return c == null ? 0 : c.end - c.start;
    }

    /**
     * Claims up to {@code len} bytes of the head chunk for a stream read. Under the lock, with bytes
     * queued; {@link #copyClaimed} and then {@link #commitClaimed} must follow. One chunk at a time keeps
     * the claim to three fields (an idle connection's size matters); a reader wanting more claims again.
     *
     * @return bytes claimed
     */
    int claim(int len) {
        Chunk c = chunks.peekFirst();
        claimedData = c.data;
        claimedStart = c.start;
        claimedLength = Math.min(len, c.end - c.start);
        clearedUnderClaim = false;
        return claimedLength;
    }

    /** Copies the claimed bytes into {@code dst} at index {@code off}; the lock need not be held. */
    void copyClaimed(ByteBuffer dst, int off) {
        dst.put(off, claimedData, claimedStart, claimedLength);
    }

    /**
     * Consumes the {@code n} claimed bytes, under the lock again.
     *
     * @return {@code n}, or 0 when the queue was cleared meanwhile (the bytes are gone with the connection)
     */
    int commitClaimed(int n) {
        claimedData = null;
        if (clearedUnderClaim) {
            clearedUnderClaim = false;
            return 0;
        }
        Chunk c = chunks.peekFirst();
        c.start += n;
        if (c.start == c.end) {
            chunks.pollFirst();
            release(c);
        }
        bytes -= n;
        return n;
    }

    /** Drops everything (the connection is gone); returns the bytes dropped. */
    int clear() {
        int dropped = bytes;
        boolean claimed = claimedData != null;
        for (Chunk c : chunks) {
            if (claimed) {
                c.data = null; // the reader may be copying from it: no pool, the collector takes it
            } else {
                release(c);
            }
        }
        clearedUnderClaim = claimed;
        chunks.clear();
        bytes = 0;
        messages = 0;
        return dropped;
    }

    /** A payload array we kept is no longer referenced: full-size ones go back to the pool. */
    private static void release(Chunk c) {
        if (!c.mergeable) {
            PayloadPool.give(c.data);
        }
        c.data = null;
    }

    /** What {@link #readMessage} found: filled in by the call, read by its caller under the same lock. */
    static final class MessageBounds {
        int messageBytes;
        int copiedBytes;
        boolean endOfRecord;
    }
}
