package io.vsock4j.engine;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.spi.Errno;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.PayloadPool;
import io.vsock4j.wire.VirtioVsock;

import java.nio.ByteBuffer;

/**
 * The protocol of one virtio-vsock connection, as net/vmw_vsock/virtio_transport_common.c runs it: packets
 * and socket calls in, packets and wake-ups out. No locks, no threads, no clock: whoever owns it calls it
 * from one thread at a time ({@link Connection} under its lock; a test straight from its own thread,
 * packet by packet).
 *
 * <h2>The protocol in brief</h2>
 * A connection is named by its two (CID, port) endpoints. The client sends REQUEST; a listener answers
 * RESPONSE (both sides are then ESTABLISHED) or RST (nobody there: ECONNRESET). Data flows as RW packets,
 * never more than the peer's credit allows ({@link Credit}); a receiver whose reader freed space says so
 * with CREDIT_UPDATE, and a sender may ask with CREDIT_REQUEST. SHUTDOWN carries RCV and/or SEND: the
 * peer will receive, or send, no more. Once both directions are shut and nothing is left to read, the
 * side that notices sends RST and the protocol is over; RST from either side ends it at once. A released
 * (closed) connection sends SHUTDOWN(RCV|SEND) and waits for the peer's RST; its owner sends our own RST
 * through {@link #closeTimedOut} if none comes. A packet that makes no sense in the current state resets
 * this connection and nothing else; an RST is never answered.
 *
 * <h2>What goes out</h2>
 * Everything this class decides to do lands on its {@link Output}: packets to queue for the peer,
 * readers or writers to wake, and the two moments the machine cares about (the connection became
 * findable by its endpoints; it is finished and may be forgotten). The output is called synchronously,
 * in the order the kernel would do the same things.
 */
public final class ConnectionProtocol {
    /** Where the protocol's decisions go; called on the caller's thread, during the call that made them. */
    public interface Output {
        /** Queue {@code packet} for the peer; it now belongs to the transport. Must not block. */
        void send(Packet packet);

        /** Data, a message, EOF, an error or the end of a connect may be there for a reader. */
        void wakeReaders();

        /** Credit, an error or a shutdown may let a writer go on. */
        void wakeWriters();

        /** RESPONSE arrived: the connection must now be findable by its endpoints. */
        void established();

        /** The connection reached CLOSED: forget it, free its port. Called once. */
        void finished();
    }

    private final Output out;
    private final SocketType type;
    private final int virtioType;
    /** Our endpoint as the packets carry it: the transport's CID and our port. */
    private final VsockAddress local;
    private final VsockAddress remote;

    private ConnectionState state = ConnectionState.IDLE;
    private final Credit credit;
    private final ReceiveQueue rx = new ReceiveQueue();
    private final ReceiveQueue.MessageBounds bounds = new ReceiveQueue.MessageBounds();
    /** An error the next blocking call reports (connect refused, protocol error, transport reset), or null. */
    private Errno error;
    /**
     * The peer had shut SEND before a transport reset: the stream it sent is whole, so a reader gets it and
     * then EOF; only writers learn of the reset.
     */
    private boolean streamWholeBeforeReset;
    /** The socket was closed by its user: once the protocol is over, the connection goes at once. */
    private boolean released;
    private int rcvLowat;

    public ConnectionProtocol(Output out, SocketType type, VsockAddress local, VsockAddress remote, long bufferSizeBytes,
                              int rcvLowatBytes) {
        this.out = out;
        this.type = type;
        this.virtioType = type.virtioType();
        this.local = local;
        this.remote = remote;
        this.credit = new Credit(clampBufAlloc(bufferSizeBytes));
        this.rcvLowat = Math.max(1, rcvLowatBytes);
    }

    // ------------------------------------------------------------------------------------------------
    // Opening.

    /** connect(): IDLE to CONNECTING, REQUEST sent. */
    public void connect() {
        if (state.phase() != ConnectionState.Phase.IDLE) {
            throw new IllegalStateException("connect on a " + state + " connection");
        }
        state = state.to(ConnectionState.Phase.CONNECTING);
        sendControl(VirtioVsock.OP_REQUEST, 0);
    }

    /** The connect timed out: CLOSED, nothing sent (a RESPONSE that still comes finds no socket and gets RST). */
    public void connectTimedOut() {
        state = state.to(ConnectionState.Phase.CLOSED);
    }

    /** Accepted by a listener from {@code request}: ESTABLISHED at once, RESPONSE sent. */
    public void acceptRequest(Packet request) {
        credit.updateFromPeer(request.bufAlloc, request.fwdCnt);
        state = state.to(ConnectionState.Phase.ESTABLISHED);
        sendControl(VirtioVsock.OP_RESPONSE, 0);
    }

    // ------------------------------------------------------------------------------------------------
    // Packets from the peer.

    /** Handles a packet addressed to this connection; takes ownership of it. */
    public void onPacket(Packet p) {
        ConnectionState.Phase phase = state.phase();
        if (state.isDone() || phase == ConnectionState.Phase.IDLE) {
            // The kernel's SOCK_DONE check: this connection is over, the peer must learn it.
            if (p.op != VirtioVsock.OP_RST) {
                out.send(Packet.resetFor(p));
            }
            return;
        }
        boolean gainedSpace = credit.updateFromPeer(p.bufAlloc, p.fwdCnt);
        if (phase == ConnectionState.Phase.CONNECTING) {
            onPacketConnecting(p);
        } else {
            onPacketEstablished(p);
        }
        if (gainedSpace) {
            out.wakeWriters();
        }
    }

    private void onPacketConnecting(Packet p) {
        switch (p.op) {
            case VirtioVsock.OP_RESPONSE -> {
                state = state.to(ConnectionState.Phase.ESTABLISHED);
                out.established();
            }
            case VirtioVsock.OP_INVALID -> {
                return;
            }
            case VirtioVsock.OP_RST -> {
                error = Errno.ECONNRESET;
                state = state.to(ConnectionState.Phase.CLOSED);
            }
            default -> {
                error = Errno.EPROTO;
                out.send(Packet.resetFor(p));
                state = state.to(ConnectionState.Phase.CLOSED);
            }
        }
        out.wakeReaders();
    }

    private void onPacketEstablished(Packet p) {
        switch (p.op) {
            case VirtioVsock.OP_RW -> onData(p);
            case VirtioVsock.OP_CREDIT_REQUEST -> sendControl(VirtioVsock.OP_CREDIT_UPDATE, 0);
            case VirtioVsock.OP_CREDIT_UPDATE -> out.wakeWriters();
            case VirtioVsock.OP_SHUTDOWN -> {
                state = state.withPeerShutdown(p.flags);
                if (state.peerShutdown() == VirtioVsock.SHUTDOWN_BOTH && rx.isEmpty()) {
                    sendControl(VirtioVsock.OP_RST, 0);
                    protocolOver();
                }
                out.wakeReaders();
                out.wakeWriters();
            }
            case VirtioVsock.OP_RST -> protocolOver();
            default -> protocolViolation(p);
        }
    }

    private void onData(Packet p) {
        if (p.len == 0) {
            return;
        }
        if (credit.wouldOverrun(p.len)) {
            // The peer ignored our credit. Linux drops such a packet; dropping bytes from the middle of a
            // stream corrupts it, so the engine resets instead.
            protocolViolation(p);
            return;
        }
        int seqFlags = type == SocketType.SEQPACKET ? p.flags & (VirtioVsock.SEQ_EOM | VirtioVsock.SEQ_EOR) : 0;
        rx.enqueue(p.payload, p.payloadOffset, p.len, seqFlags);
        credit.onReceived(p.len);
        if (type == SocketType.SEQPACKET ? rx.messages() > 0 : rx.bytes() >= rcvLowat) {
            out.wakeReaders();
        }
    }

    /** A packet that makes no sense here: reset this connection, and only this one. */
    private void protocolViolation(Packet p) {
        out.send(Packet.resetFor(p));
        protocolOver();
    }

    /** The kernel's virtio_transport_do_close: the protocol is over; readers drain, then EOF. */
    private void protocolOver() {
        state = state.done();
        out.wakeReaders();
        out.wakeWriters();
        if (released) {
            finish();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Sending data. The caller loops: space, copy, sendData.

    /** Whether RW may still go out: established, no error, SEND not shut by us, RCV not shut by the peer. */
    public boolean canSend() {
        return error == null && state.canSend();
    }

    /** Bytes of payload the peer's credit allows now. */
    public long txSpace() {
        return credit.txSpace();
    }

    /** The largest SEQPACKET message that can ever be in flight (EMSGSIZE above it). */
    public long txBufferLimit() {
        return credit.txBufferLimit();
    }

    /**
     * Sends {@code n} bytes of {@code payload} (an array from {@link PayloadPool}, now the transport's) as
     * one RW packet. The caller checked {@link #canSend} and {@link #txSpace} since it last let go.
     */
    public void sendData(byte[] payload, int n, int seqFlags) {
        Packet p = Packet.control(virtioType, VirtioVsock.OP_RW, seqFlags, local, remote);
        p.payload = payload;
        p.len = n;
        credit.onSent(n);
        credit.stamp(p);
        out.send(p);
    }

    // ------------------------------------------------------------------------------------------------
    // Receiving data.

    /** No more data can arrive: the peer shut SEND, the protocol is over, or an error. */
    public boolean noMoreData() {
        return error != null || state.noMoreData();
    }

    /** Whether the reader shut its own receiving side (reads return EOF at once). */
    public boolean receiveShut() {
        return (state.localShutdown() & VirtioVsock.SHUTDOWN_RCV) != 0;
    }

    /** SIOCINQ: bytes queued for the reader. */
    public int queuedBytes() {
        return rx.bytes();
    }

    /** Whole messages queued (SEQPACKET). */
    public int queuedMessages() {
        return rx.messages();
    }

    /** Bytes in the oldest queued chunk: what one {@link #claim} can take. */
    public int headChunkBytes() {
        return rx.headChunkBytes();
    }

    /**
     * Copies (or, with {@code peek}, looks at) queued stream bytes. Taken bytes count as consumed only
     * when the reader's call is done: {@link #consumed}.
     */
    public int readStream(ByteBuffer dst, int off, int len, boolean peek) {
        return rx.readStream(dst, off, len, peek);
    }

    /** Claims up to {@code len} bytes of the head chunk for a copy outside the owner's lock. */
    public int claim(int len) {
        return rx.claim(len);
    }

    /** The claimed copy; safe to run while other calls go on (the claim keeps its array alive). */
    public void copyClaimed(ByteBuffer dst, int off) {
        rx.copyClaimed(dst, off);
    }

    /** Takes the claimed bytes off the queue; 0 when the connection was cleared meanwhile. */
    public int commitClaimed(int claimed) {
        return rx.commitClaimed(claimed);
    }

    /**
     * The reader's call took {@code n} stream bytes: account them, and tell the sender when it matters
     * (Linux's rule, once per call as virtio_transport_stream_do_dequeue does).
     */
    public void consumed(int n) {
        if (n == 0) {
            return;
        }
        credit.onConsumed(n);
        if (credit.shouldAnnounce(rcvLowat) && state.phase() == ConnectionState.Phase.ESTABLISHED) {
            sendControl(VirtioVsock.OP_CREDIT_UPDATE, 0);
        }
    }

    /**
     * Takes the oldest whole message (or looks at it, with {@code peek}), cut to {@code len}. Returns its
     * real length; {@link #lastMessageCopiedBytes} and {@link #lastMessageEndOfRecord} tell the rest.
     */
    public int readMessage(ByteBuffer dst, int off, int len, boolean peek) {
        int total = rx.readMessage(dst, off, len, peek, bounds);
        if (!peek) {
            credit.onConsumed(total);
            // Linux announces credit after every message read, so a sender blocked on a full buffer goes on.
            sendControl(VirtioVsock.OP_CREDIT_UPDATE, 0);
        }
        return total;
    }

    public int lastMessageCopiedBytes() {
        return bounds.copiedBytes;
    }

    public boolean lastMessageEndOfRecord() {
        return bounds.endOfRecord;
    }

    // ------------------------------------------------------------------------------------------------
    // Shutdown, close, reset.

    /**
     * shutdown(2) with SHUTDOWN_RCV, _SEND or both; sends SHUTDOWN with what is new.
     *
     * @return false when the connection is not connected (the caller's ENOTCONN)
     */
    public boolean shutdown(int how) {
        if (!state.isConnected()) {
            return false;
        }
        int add = how & VirtioVsock.SHUTDOWN_BOTH & ~state.localShutdown();
        if (add == 0) {
            return true;
        }
        state = state.withLocalShutdown(add);
        if (state.phase() == ConnectionState.Phase.ESTABLISHED) {
            sendControl(VirtioVsock.OP_SHUTDOWN, add);
        }
        out.wakeReaders();
        out.wakeWriters();
        return true;
    }

    /**
     * close(2): announces SHUTDOWN both ways, or finishes at once when there is nothing to wait for.
     * Idempotent.
     *
     * @return true when the peer's RST is still awaited: the owner arms the close timeout, which calls
     *         {@link #closeTimedOut}
     */
    public boolean release() {
        if (released) {
            return false;
        }
        released = true;
        out.wakeReaders();
        out.wakeWriters();
        switch (state.phase()) {
            case IDLE, CONNECTING, CLOSING, CLOSED -> finish();
            case ESTABLISHED -> {
                if (state.peerShutdown() == VirtioVsock.SHUTDOWN_BOTH) {
                    sendControl(VirtioVsock.OP_RST, 0);
                    state = state.done();
                    finish();
                } else {
                    // Like the kernel, close announces both directions, whatever was shut before.
                    if (state.localShutdown() != VirtioVsock.SHUTDOWN_BOTH) {
                        sendControl(VirtioVsock.OP_SHUTDOWN, VirtioVsock.SHUTDOWN_BOTH);
                        state = state.withLocalShutdown(VirtioVsock.SHUTDOWN_BOTH);
                    }
                    return true;
                }
            }
        }
        return false;
    }

    /** The peer did not finish in time after {@link #release}: our RST, and the connection is gone. */
    public void closeTimedOut() {
        if (state.phase() == ConnectionState.Phase.CLOSED) {
            return;
        }
        if (!state.isDone()) {
            sendControl(VirtioVsock.OP_RST, 0);
        }
        state = state.done();
        finish();
    }

    /**
     * The link under this connection is gone (the kernel's transport reset): ECONNRESET, nothing sent.
     * A connection whose protocol was over already keeps its clean end, as Linux's SOCK_DONE makes a read
     * return 0 after virtio_vsock_reset_sock: nothing was lost. (A shared machine's peer process that closed,
     * then exited before its port's release reached the daemon, looks exactly like this.) When the peer had shut SEND,
     * reads still end in EOF, since every byte it would send is here; writes get ECONNRESET.
     */
    public void transportReset() {
        if (state.phase() == ConnectionState.Phase.CLOSED) {
            return;
        }
        if (!state.isDone()) {
            error = Errno.ECONNRESET;
            streamWholeBeforeReset = (state.peerShutdown() & VirtioVsock.SHUTDOWN_SEND) != 0;
        }
        state = state.done();
        out.wakeReaders();
        out.wakeWriters();
        if (released) {
            finish();
        } else {
            // Closed for the machine, but the reader may still drain what arrived before.
            state = state.to(ConnectionState.Phase.CLOSED);
            out.finished();
        }
    }

    /** Leaves the machine for good: CLOSED, queue dropped, the owner told once. */
    private void finish() {
        rx.clear();
        if (state.phase() == ConnectionState.Phase.CLOSED) {
            return; // closed for the machine already (a transport reset): only the bytes were left
        }
        state = state.to(ConnectionState.Phase.CLOSED);
        out.finished();
    }

    // ------------------------------------------------------------------------------------------------
    // Options.

    /** SO_VM_SOCKETS_BUFFER_SIZE on a live connection: the new size is advertised at once. */
    public void setBufferSize(long bytes) {
        int newAlloc = clampBufAlloc(bytes);
        if (newAlloc != credit.bufAlloc) {
            credit.bufAlloc = newAlloc;
            if (state.phase() == ConnectionState.Phase.ESTABLISHED) {
                sendControl(VirtioVsock.OP_CREDIT_UPDATE, 0);
            }
        }
    }

    /** SO_RCVLOWAT: a raise above what is queued announces credit so the sender can fill it. */
    public void setRcvLowat(int bytes) {
        rcvLowat = Math.max(1, bytes);
        if (state.phase() == ConnectionState.Phase.ESTABLISHED && rx.bytes() < rcvLowat && credit.hasUnannounced()) {
            sendControl(VirtioVsock.OP_CREDIT_UPDATE, 0);
        }
        out.wakeReaders();
    }

    public int rcvLowat() {
        return rcvLowat;
    }

    private static int clampBufAlloc(long bytes) {
        return (int) Math.min(bytes, VirtioVsock.MAX_BUF_SIZE_BYTES);
    }

    private void sendControl(int op, int flags) {
        Packet p = Packet.control(virtioType, op, flags, local, remote);
        credit.stamp(p);
        out.send(p);
    }

    // ------------------------------------------------------------------------------------------------
    // Views.

    public ConnectionState state() {
        return state;
    }

    /** The pending error, or null. */
    public Errno error() {
        return error;
    }

    /** The error a reader reports once nothing is queued and no more can come, or null for EOF. */
    public Errno receiveError() {
        return streamWholeBeforeReset ? null : error;
    }

    /** Returns the pending error, or {@code otherwise} when there is none, and clears it. */
    public Errno takeError(Errno otherwise) {
        Errno e = error != null ? error : otherwise;
        error = null;
        return e;
    }

    public boolean released() {
        return released;
    }

    public SocketType type() {
        return type;
    }

    public VsockAddress local() {
        return local;
    }

    public VsockAddress remote() {
        return remote;
    }

    /** SIOCOUTQ: bytes sent that the peer's reader has not consumed. */
    public int unacknowledgedBytes() {
        return credit.txCnt - credit.peerFwdCnt;
    }

    /** Heap bytes held by the receive queue's arrays. */
    public long retainedBytes() {
        return rx.retainedBytes();
    }

    /** The credit counters now. */
    public Credit.Snapshot credit() {
        return credit.snapshot();
    }

    @Override
    public String toString() {
        return type + " " + local + " -> " + remote + " " + state;
    }
}
