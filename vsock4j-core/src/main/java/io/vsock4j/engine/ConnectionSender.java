package io.vsock4j.engine;

import io.vsock4j.MessageFlags;
import io.vsock4j.SocketType;
import io.vsock4j.spi.Errno;
import io.vsock4j.wire.PayloadPool;
import io.vsock4j.wire.VirtioVsock;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The write side of a {@link Connection}: send(2) for streams and SEQPACKET messages, as af_vsock.c's
 * vsock_connectible_sendmsg waits for credit and virtio_transport_common.c cuts the bytes into RW
 * packets of at most 64 KiB.
 *
 * <p>Writers serialize on {@link #serial}, held for the whole call and taken before the connection's
 * lock, so the bytes of two sends never interleave. Each packet is sized under the lock (what credit
 * allows), its payload copied with the lock released when it is large (so the thread delivering the
 * peer's CREDIT_UPDATE is not kept waiting for a 64 KiB copy), and handed to the protocol under the
 * lock again, once it is clear the connection can still send.
 */
final class ConnectionSender {
    private final Connection c;
    /** Serializes writers; taken before the connection's lock, held while a payload copy runs unlocked. */
    private final ReentrantLock serial = new ReentrantLock();

    ConnectionSender(Connection connection) {
        this.c = connection;
    }

    /** Sends {@code len} bytes of {@code src} from its index {@code off} on (absolute: heap or direct alike). */
    int send(ByteBuffer src, int off, int len, int flags, long timeoutNanos) throws IOException {
        c.lockDirection(serial);
        try {
            c.lock.lock();
            try {
                return sendLocked(src, off, len, flags, timeoutNanos);
            } finally {
                c.unlockAndFlush();
            }
        } finally {
            serial.unlock();
        }
    }

    private int sendLocked(ByteBuffer src, int off, int len, int flags, long timeoutNanos) throws IOException {
        c.checkNotReleased();
        if (c.protocol.error() != null) {
            // A reset marks the peer shut both ways; the reset is what happened, not a shutdown. A write
            // that was blocked when the link died returned its short count and lands here: it must say
            // ECONNRESET, as the blocked reads do, not "peer shut down receiving".
            throw c.protocol.error().exception("send to " + c.remote());
        }
        ConnectionState state = c.protocol.state();
        if (sendShut(state)) {
            throw Errno.EPIPE.exception(sendShutdownReason(state));
        }
        if (state.phase() != ConnectionState.Phase.ESTABLISHED) {
            throw Errno.ENOTCONN.exception("send on " + c.local() + " in state " + state);
        }
        SocketType type = c.protocol.type();
        if (type == SocketType.SEQPACKET && Integer.toUnsignedLong(len) > c.protocol.txBufferLimit()) {
            // A message must fit in flight whole, or the peer could never read it and give credit back.
            Credit.Snapshot credit = c.protocol.credit();
            throw Errno.EMSGSIZE.exception(len + "-byte message; at most " + c.protocol.txBufferLimit()
                    + " bytes fit (peer " + c.remote() + " buffers " + Integer.toUnsignedString(credit.peerBufAlloc())
                    + ", this socket " + Integer.toUnsignedString(credit.bufAlloc()) + ")");
        }
        boolean dontWait = (flags & MessageFlags.MSG_DONTWAIT) != 0;
        long remaining = timeoutNanos;
        int written = 0;
        while (written < len) {
            long space;
            while ((space = c.protocol.txSpace()) == 0 && c.protocol.canSend()) {
                if (dontWait) {
                    return written;
                }
                if (timeoutNanos > 0 && remaining <= 0) {
                    InterruptedIOException timeout = (InterruptedIOException) Errno.EAGAIN.exception(
                            "send to " + c.remote() + " timed out waiting for credit");
                    timeout.bytesTransferred = written;
                    throw timeout;
                }
                remaining = c.awaitWritable(timeoutNanos > 0 ? remaining : Long.MAX_VALUE);
            }
            if (!c.protocol.canSend()) {
                // Closed while this call waited or copied: the close's "Socket closed", not the local
                // shutdown that the close implies (it said EPIPE "after shutdownOutput", which nobody called).
                c.checkNotReleased();
                if (written > 0 && type == SocketType.STREAM) {
                    return written;
                }
                if (c.protocol.error() != null) {
                    throw c.protocol.error().exception("send to " + c.remote());
                }
                throw Errno.EPIPE.exception(sendShutdownReason(c.protocol.state()));
            }
            int n = (int) Math.min(Math.min(len - written, space), VirtioVsock.MAX_PACKET_PAYLOAD_BYTES);
            int seqFlags = 0;
            if (type == SocketType.SEQPACKET && written + n == len) {
                seqFlags = VirtioVsock.SEQ_EOM | ((flags & MessageFlags.MSG_EOR) != 0 ? VirtioVsock.SEQ_EOR : 0);
            }
            if (sendPacket(src, off + written, n, seqFlags)) {
                written += n;
            } // else the connection broke during the copy: the loop's check reports it
        }
        return written;
    }

    /**
     * Copies {@code n} bytes of {@code src} into a pooled payload, a large one with the lock released (the
     * caller holds {@link #serial}, so no other writer comes between), and sends it. Returns false,
     * sending nothing, when the connection can no longer send once the copy is done.
     */
    private boolean sendPacket(ByteBuffer src, int off, int n, int seqFlags) {
        byte[] payload = PayloadPool.take(n);
        if (n >= Connection.UNLOCKED_COPY_MIN_BYTES) {
            c.lock.unlock();
            try {
                src.get(off, payload, 0, n);
            } finally {
                c.lock.lock();
            }
            if (!c.protocol.canSend()) {
                PayloadPool.give(payload);
                return false;
            }
        } else {
            src.get(off, payload, 0, n);
        }
        c.protocol.sendData(payload, n, seqFlags);
        return true;
    }

    private static boolean sendShut(ConnectionState state) {
        return (state.localShutdown() & VirtioVsock.SHUTDOWN_SEND) != 0
                || (state.peerShutdown() & VirtioVsock.SHUTDOWN_RCV) != 0;
    }

    private String sendShutdownReason(ConnectionState state) {
        return (state.localShutdown() & VirtioVsock.SHUTDOWN_SEND) != 0
                ? "send on " + c.local() + " after shutdownOutput"
                : "peer " + c.remote() + " shut down receiving";
    }
}
