package io.vsock4j.engine;

import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

/**
 * Credit-based flow control of one connection, as virtio-vsock defines it.
 *
 * <p>Each side advertises, in every packet it sends, how big its receive buffer is ({@code buf_alloc})
 * and how many bytes its reader has consumed so far ({@code fwd_cnt}, a wrapping u32). A sender that
 * has sent {@code tx_cnt} bytes knows the peer still holds {@code tx_cnt - peer_fwd_cnt} of them, so it
 * may send
 *
 * <pre>   space = min(peer_buf_alloc, buf_alloc) - (tx_cnt - peer_fwd_cnt)      (floored at 0)</pre>
 *
 * more bytes of RW payload. The receiver never has more than {@code buf_alloc} bytes queued: that is
 * the whole memory bound. When the reader frees space, the receiver tells the sender with a
 * CREDIT_UPDATE, but only when it matters (Linux's rule, {@link #shouldAnnounce}): the sender's view of
 * the free space has dropped under one full packet, or the queued bytes are fewer than the reader's
 * low-water mark so the reader would otherwise sleep while the sender waits for credit.
 *
 * <p>All counters are u32 and wrap; differences are taken in 32 bits, as the kernel does. Not
 * thread-safe: it belongs to one {@link ConnectionProtocol}, which its owner calls from one thread at a time.
 */
public final class Credit {
    /** Our receive buffer size in bytes, advertised as buf_alloc. */
    int bufAlloc;
    /** Bytes our reader has consumed (fwd_cnt we advertise). */
    int fwdCnt;
    /** The fwd_cnt we last advertised to the peer. */
    int lastFwdCnt;
    /** Bytes queued for our reader. */
    int rxBytes;
    /** Bytes of RW payload we have sent. */
    int txCnt;
    /** The peer's buf_alloc, from its latest packet. */
    int peerBufAlloc;
    /** The peer's fwd_cnt, from its latest packet. */
    int peerFwdCnt;

    Credit(int bufAlloc) {
        this.bufAlloc = bufAlloc;
    }

    /**
     * The most we ever have in flight: the peer's buffer, capped by our own (virtio_transport_tx_buf_size
     * in current kernels, so a peer advertising a huge buffer cannot make us queue more than we allow).
     */
    public long txBufferLimit() {
        return Math.min(Integer.toUnsignedLong(peerBufAlloc), Integer.toUnsignedLong(bufAlloc));
    }

    /** Bytes of payload we may send now without overrunning the peer. */
    public long txSpace() {
        long limit = txBufferLimit();
        long inFlight = Integer.toUnsignedLong(txCnt - peerFwdCnt);
        return Math.max(0, limit - inFlight);
    }

    /**
     * Takes the peer's advertisement from a received packet.
     *
     * @return true when this gave us room to send that we did not have before
     */
    boolean updateFromPeer(int newBufAlloc, int newFwdCnt) {
        boolean hadNoSpace = txSpace() == 0;
        peerBufAlloc = newBufAlloc;
        peerFwdCnt = newFwdCnt;
        return hadNoSpace && txSpace() > 0;
    }

    /** Would {@code len} more payload bytes overrun our advertised buffer? A compliant peer never does. */
    boolean wouldOverrun(int len) {
        return Integer.toUnsignedLong(rxBytes) + Integer.toUnsignedLong(len) > Integer.toUnsignedLong(bufAlloc);
    }

    void onReceived(int len) {
        rxBytes += len;
    }

    void onConsumed(int len) {
        rxBytes -= len;
        fwdCnt += len;
    }

    void onSent(int len) {
        txCnt += len;
    }

    /** Fills the credit fields of an outgoing packet; the peer now knows our fwd_cnt. */
    void stamp(Packet p) {
        p.bufAlloc = bufAlloc;
        p.fwdCnt = fwdCnt;
        lastFwdCnt = fwdCnt;
    }

    /**
     * Linux's rule for a CREDIT_UPDATE after the reader consumed data (virtio_transport_stream_do_dequeue):
     * something was consumed since we last spoke, and either the sender believes less than one full packet
     * of space is left, or what is queued is below the reader's low-water mark.
     */
    boolean shouldAnnounce(int rcvLowat) {
        int unannounced = fwdCnt - lastFwdCnt;
        if (unannounced == 0) {
            return false;
        }
        long freeSpaceSenderSees = Integer.toUnsignedLong(bufAlloc) - Integer.toUnsignedLong(unannounced);
        return freeSpaceSenderSees < VirtioVsock.MAX_PACKET_PAYLOAD_BYTES
                || Integer.toUnsignedLong(rxBytes) < Integer.toUnsignedLong(rcvLowat);
    }

    /** Whether consumed bytes have not yet been advertised (for the SO_RCVLOWAT raise rule). */
    boolean hasUnannounced() {
        return fwdCnt != lastFwdCnt;
    }

    public int bufAlloc() {
        return bufAlloc;
    }

    public int fwdCnt() {
        return fwdCnt;
    }

    public int rxBytes() {
        return rxBytes;
    }

    public int txCnt() {
        return txCnt;
    }

    public int peerBufAlloc() {
        return peerBufAlloc;
    }

    public int peerFwdCnt() {
        return peerFwdCnt;
    }

    /** The counters now, as a value for tools and messages. */
    Snapshot snapshot() {
        return new Snapshot(bufAlloc, fwdCnt, rxBytes, txCnt, peerBufAlloc, peerFwdCnt, txSpace());
    }

    /** The credit counters at one moment, all u32 in ints except {@code txSpace}. */
    public record Snapshot(int bufAlloc, int fwdCnt, int rxBytes, int txCnt, int peerBufAlloc, int peerFwdCnt,
                           long txSpace) {
    }
}
