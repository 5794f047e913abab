package io.vsock4j.engine;

import io.vsock4j.MessageFlags;
import io.vsock4j.MessageInfo;
import io.vsock4j.SocketType;
import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The read side of a {@link Connection}: recv(2) for streams and for SEQPACKET messages, as
 * af_vsock.c's vsock_connectible_recvmsg waits and virtio_transport_common.c dequeues.
 *
 * <p>Readers serialize on {@link #serial}, held for the whole call and taken before the connection's
 * lock. A large head chunk is claimed under the lock, copied with the lock released (so the thread
 * delivering the next packet is not kept waiting for a 64 KiB copy), and taken off the queue under the
 * lock again. The bytes a call took are accounted once, at its end, which is when Linux decides whether
 * the sender needs a CREDIT_UPDATE.
 */
final class ConnectionReceiver {
    private final Connection c;
    /** Serializes readers; taken before the connection's lock, held while a claimed copy runs unlocked. */
    private final ReentrantLock serial = new ReentrantLock();

    ConnectionReceiver(Connection connection) {
        this.c = connection;
    }

    int receive(ByteBuffer dst, int off, int len, int flags, long timeoutNanos, MessageInfo info) throws IOException {
        c.lockDirection(serial);
        try {
            c.lock.lock();
            try {
                return receiveLocked(dst, off, len, flags, timeoutNanos, info);
            } finally {
                c.unlockAndFlush();
            }
        } finally {
            serial.unlock();
        }
    }

    private int receiveLocked(ByteBuffer dst, int off, int len, int flags, long timeoutNanos, MessageInfo info)
            throws IOException {
        c.checkNotReleased();
        ConnectionState.Phase phase = c.protocol.state().phase();
        if (phase == ConnectionState.Phase.IDLE || phase == ConnectionState.Phase.CONNECTING) {
            throw Errno.ENOTCONN.exception("receive on " + c.local() + " before connect");
        }
        if (c.protocol.receiveShut()) {
            return -1;
        }
        if (len == 0) {
            return 0; // as Linux: a zero-length buffer is valid and reads nothing, for both types
        }
        return c.protocol.type() == SocketType.STREAM
                ? receiveStream(dst, off, len, flags, timeoutNanos, info)
                : receiveMessage(dst, off, len, flags, timeoutNanos, info);
    }

    private int receiveStream(ByteBuffer dst, int off, int len, int flags, long timeoutNanos, MessageInfo info)
            throws IOException {
        boolean peek = (flags & MessageFlags.MSG_PEEK) != 0;
        boolean dontWait = (flags & MessageFlags.MSG_DONTWAIT) != 0;
        int target = (flags & MessageFlags.MSG_WAITALL) != 0 ? len : Math.min(c.protocol.rcvLowat(), len);
        long remaining = timeoutNanos;
        int copied = 0;
        while (true) {
            int queued = c.protocol.queuedBytes();
            if (queued > 0 && (queued >= target - copied || dontWait || c.protocol.noMoreData())) {
                if (peek) {
                    return c.protocol.readStream(dst, off + copied, len - copied, true);
                }
                int n = readQueued(dst, off + copied, len - copied);
                c.protocol.consumed(n);
                copied += n;
                if (copied >= target || dontWait) {
                    break;
                }
                continue;
            }
            if (c.protocol.noMoreData() || dontWait) {
                break;
            }
            if (timeoutNanos > 0 && remaining <= 0) {
                if (copied > 0) {
                    break;
                }
                throw Errno.EAGAIN.exception("receive from " + c.remote() + " timed out");
            }
            remaining = c.awaitReadable(timeoutNanos > 0 ? remaining : Long.MAX_VALUE);
            c.checkNotReleased();
        }
        if (info != null) {
            info.set(copied, 0);
        }
        if (copied > 0 || dontWait && !c.protocol.noMoreData()) {
            return copied;
        }
        if (c.protocol.receiveError() != null) {
            throw c.protocol.receiveError().exception("receive from " + c.remote());
        }
        return -1;
    }

    /**
     * Takes up to {@code len} queued bytes into {@code dst}, large chunks copied with the lock released
     * (see the class comment). Throws "Socket closed" when a close came during the copy.
     */
    private int readQueued(ByteBuffer dst, int off, int len) throws SocketException {
        if (c.protocol.headChunkBytes() < Connection.UNLOCKED_COPY_MIN_BYTES) {
            // Small chunks (merged small packets) are copied in one go under the lock: cheaper than a lock
            // round trip each.
            return c.protocol.readStream(dst, off, len, false);
        }
        int total = 0;
        do {
            int claimed = c.protocol.claim(len - total);
            c.lock.unlock();
            try {
                c.protocol.copyClaimed(dst, off + total);
            } finally {
                c.lock.lock();
            }
            int n = c.protocol.commitClaimed(claimed);
            c.checkNotReleased();
            if (n == 0) {
                break;
            }
            total += n;
        } while (total < len && c.protocol.headChunkBytes() >= Connection.UNLOCKED_COPY_MIN_BYTES);
        if (total < len && c.protocol.queuedBytes() > 0) {
            total += c.protocol.readStream(dst, off + total, len - total, false);
        }
        return total;
    }

    private int receiveMessage(ByteBuffer dst, int off, int len, int flags, long timeoutNanos, MessageInfo info)
            throws IOException {
        boolean peek = (flags & MessageFlags.MSG_PEEK) != 0;
        long remaining = timeoutNanos;
        while (c.protocol.queuedMessages() == 0) {
            if (c.protocol.noMoreData()) {
                if (c.protocol.receiveError() != null) {
                    throw c.protocol.receiveError().exception("receive from " + c.remote());
                }
                return -1;
            }
            if ((flags & MessageFlags.MSG_DONTWAIT) != 0) {
                return 0;
            }
            if (timeoutNanos > 0 && remaining <= 0) {
                throw Errno.EAGAIN.exception("receive from " + c.remote() + " timed out");
            }
            remaining = c.awaitReadable(timeoutNanos > 0 ? remaining : Long.MAX_VALUE);
            c.checkNotReleased();
        }
        int total = c.protocol.readMessage(dst, off, len, peek);
        int copied = c.protocol.lastMessageCopiedBytes();
        int outFlags = (total > copied ? MessageFlags.MSG_TRUNC : 0)
                | (c.protocol.lastMessageEndOfRecord() ? MessageFlags.MSG_EOR : 0);
        if (info != null) {
            info.set(total, outFlags);
        }
        return (flags & MessageFlags.MSG_TRUNC) != 0 ? total : copied;
    }
}
