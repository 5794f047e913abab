package io.vsock4j.transport.link;

import io.vsock4j.wire.Packet;
import io.vsock4j.wire.PayloadPool;
import io.vsock4j.wire.VirtioVsock;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link PacketLink} over a connected Unix domain stream socket, so that the other machine can be
 * another process. Packets travel as frames ({@link FrameDecoder}) after the {@link LinkHello}.
 *
 * <p>The other process is not trusted, and nothing it sends may crash, hang or grow this one:
 * a broken frame or a truncated one at EOF takes the link down (every connection over it gets
 * ECONNRESET); what a well-framed packet says is checked by the transport on top (CIDs) and the engine
 * (ops, types, credit: RST). Memory is bounded: one frame being read, and what waits to be written.
 * Data (RW) waits within credit: each of this side's connections has at most its own buffer size in
 * flight (the engine caps the peer's buf_alloc by its own), so the data queued is what this process's
 * own connections may send, however slowly the peer reads; 1,000 connections of 256 KiB may
 * legitimately queue 250 MiB behind a busy daemon. Everything else (RST, RESPONSE, CREDIT_UPDATE: the
 * replies a peer's packets earn) is bounded only here: past {@link #MAX_QUEUED_CONTROL_PACKETS} of
 * them the peer counts as not reading its replies and is dropped, as vhost stops serving a guest that
 * does not take its replies. And past {@link #MAX_QUEUED_BYTES} of anything (frames plus a per-packet
 * allowance) the link is dropped whatever is queued: only a peer that lies about what it consumed
 * (fwd_cnt) gets there.
 *
 * <p>Writing inline. A packet sent while nothing is queued or being written is written at once by the
 * thread that sends it, as far as the socket takes it; only what does not fit goes to the writer thread.
 * On the shared machine that spares a hand-off to another thread per packet and hop (sender to writer,
 * and in the daemon reader to writer), which was a good part of its cost (docs/benchmarks.md). The
 * channel is therefore non-blocking once the link starts: an inline write never waits, so a sender,
 * the daemon's reader of one process among them, is never held up by a peer that is slow to read (what
 * does not fit waits in the queue, within the bounds above), no cycle of threads waiting on each other's
 * sockets can form, and an interrupt of a sending thread cannot close the channel (non-blocking I/O is
 * not interruptible). The reader and the writer wait for readiness with a selector each.
 *
 * <p>Threads: {@link #send} from any thread (writes inline or queues; never waits for the peer). Two
 * daemon threads per link: the reader decodes and delivers in order and is the one that reports
 * {@link Receiver#down}; the writer writes what an inline write left, then drains the queue with
 * gathering writes. Frames never interleave: one thread at a time writes, the inline sender or the
 * writer, and the writer finishes a frame an inline write began before any other. {@link #close()}
 * first lets everything queued be written (up to {@link VirtioVsock#CLOSE_TIMEOUT_NANOS}), then closes
 * the channel, which ends both: a process that wrote its last bytes and closed its machine expects them
 * to arrive, as a kernel socket delivers what was written before its close. The same holds the other
 * way: a write that fails because the peer closed stops the writing only, and the reader still delivers
 * what the peer sent before its close; the end of the stream then takes the link down (or, from a peer
 * that never closes, the close timeout).
 */
public final class UnixLink implements PacketLink {
    private static final System.Logger LOG = System.getLogger(UnixLink.class.getName());
    /** Packets other than data queued for the peer beyond which it counts as not reading its replies. */
    public static final int MAX_QUEUED_CONTROL_PACKETS = 65_536;
    /** What a queued packet costs beyond its frame: the Packet and its array headers, roughly. */
    static final int PACKET_ALLOWANCE_BYTES = 128;
    /**
     * Bytes queued (frames plus {@link #PACKET_ALLOWANCE_BYTES} each) beyond which the link is dropped
     * whatever they are: 1 GiB, or a quarter of the heap when that is less.
     */
    public static final long MAX_QUEUED_BYTES = Math.min(1L << 30, Runtime.getRuntime().maxMemory() / 4);
    private static final int MAX_BATCH_PACKETS = 64;

    private final SocketChannel channel;
    private final String name;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Signalled when the writer has written everything queued. */
    private final Condition written = lock.newCondition();
    /** Guarded by lock. */
    private ArrayDeque<Packet> outbound = new ArrayDeque<>();
    /** Frame bytes plus allowances in outbound. Guarded by lock. */
    private long queuedBytes;
    /** Packets in outbound that are not data. Guarded by lock. */
    private int queuedControlPackets;
    /** The writer took a batch from outbound and is writing it. Guarded by lock. */
    private boolean writing;
    /** A sending thread is writing a packet inline. Guarded by lock. */
    private boolean writingInline;
    /**
     * What an inline write left unwritten of its frame (the writer writes it before anything else), and
     * the packet it belongs to; null when nothing is left. Guarded by lock.
     */
    private ByteBuffer[] unfinishedFrame;
    private Packet unfinishedPacket;
    /** Where the reader and the writer wait for the channel; set in start. Guarded by lock. */
    private Selector readable;
    private Selector writable;
    /** Why the link is going down, once it is. Guarded by lock. */
    private String downReason;
    /**
     * Why writing stopped (a write failed: the peer closed or stopped reading), while the reader still
     * takes what the peer sent before; null while writes work. Guarded by lock.
     */
    private String writeFailure;
    /** Guarded by lock. */
    private Thread reader;
    /** Guarded by lock. */
    private Thread writer;

    /** A link on {@code channel}, whose hello is done. */
    UnixLink(SocketChannel channel, String name) {
        this.channel = channel;
        this.name = name;
    }

    /**
     * A link on a connected {@code channel} whose own handshake, if any, is done: for protocols that put
     * the same framing on another hello (the shared machine). Nothing is read or written until {@link #start}.
     */
    public static UnixLink over(SocketChannel channel, String name) {
        return new UnixLink(channel, name);
    }

    @Override
    public void start(Receiver receiver) {
        lock.lock();
        try {
            if (reader != null) {
                throw new IllegalStateException("link " + name + " already started");
            }
            try {
                channel.configureBlocking(false);
                readable = Selector.open();
                writable = Selector.open();
                channel.register(readable, SelectionKey.OP_READ);
                channel.register(writable, SelectionKey.OP_WRITE);
            } catch (IOException e) {
                closeQuietly(readable);
                closeQuietly(writable);
                throw new UncheckedIOException("link " + name + ": cannot wait for its socket", e);
            }
            reader = Thread.ofPlatform().name("vsock4j-link-" + name + "-rx").daemon(true).unstarted(() -> read(receiver));
            writer = Thread.ofPlatform().name("vsock4j-link-" + name + "-tx").daemon(true).unstarted(this::write);
            reader.start();
            writer.start();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void send(Packet packet) {
        boolean overflow;
        lock.lock();
        try {
            if (downReason != null || writeFailure != null) {
                return;
            }
            if (writer != null && !writing && !writingInline && unfinishedFrame == null && outbound.isEmpty()) {
                writingInline = true;
                lock.unlock();
                try {
                    writeInline(packet);
                } finally {
                    lock.lock();
                }
                return;
            }
            outbound.addLast(packet);
            queuedBytes += cost(packet);
            if (!isData(packet)) {
                queuedControlPackets++;
            }
            overflow = queuedControlPackets > MAX_QUEUED_CONTROL_PACKETS || queuedBytes > MAX_QUEUED_BYTES;
            if (outbound.size() == 1) {
                changed.signal();
            }
        } finally {
            lock.unlock();
        }
        if (overflow) {
            goDown("peer stopped reading: more than " + MAX_QUEUED_CONTROL_PACKETS + " replies or "
                    + MAX_QUEUED_BYTES + " bytes queued");
        }
    }

    /**
     * Writes {@code packet}'s frame as far as the socket takes it now, on the sending thread, and leaves
     * the rest to the writer. Called with writingInline set and the lock not held; returns with the
     * lock not held.
     */
    private void writeInline(Packet packet) {
        ByteBuffer[] frame = FrameDecoder.encode(packet);
        String failure = null;
        try {
            channel.write(frame);
        } catch (IOException e) {
            failure = "link write failed: " + e.getMessage();
        }
        boolean whole = true;
        for (ByteBuffer b : frame) {
            whole &= !b.hasRemaining(); // not only the payload's: an RST has none, and its header may not fit
        }
        lock.lock();
        try {
            writingInline = false;
            if (failure == null && !whole && downReason == null) {
                unfinishedFrame = frame;
                unfinishedPacket = packet;
            }
            if (unfinishedFrame != null || !outbound.isEmpty()) {
                changed.signal(); // what queued meanwhile, or the rest of this frame, is the writer's now
            } else {
                written.signalAll();
            }
        } finally {
            lock.unlock();
        }
        if (failure != null) {
            writeFailed(failure);
        } else if (whole) {
            PayloadPool.give(packet.payload);
        }
    }

    /** Data, whose amount in flight credit bounds: a stream or SEQPACKET RW with payload. */
    private static boolean isData(Packet p) {
        return p.op == VirtioVsock.OP_RW && p.len > 0
                && (p.type == VirtioVsock.TYPE_STREAM || p.type == VirtioVsock.TYPE_SEQPACKET);
    }

    private static long cost(Packet p) {
        return VirtioVsock.HEADER_SIZE_BYTES + Integer.toUnsignedLong(p.len) + PACKET_ALLOWANCE_BYTES;
    }

    /** The reader: bytes to frames to packets, until the stream ends or breaks. */
    private void read(Receiver receiver) {
        FrameDecoder decoder = new FrameDecoder();
        // Direct: the channel reads into it with no copy in Java (into a heap buffer it would read into a
        // temporary direct one and copy), so each payload byte is copied once here, into its packet.
        ByteBuffer buf = ByteBuffer.allocateDirect(VirtioVsock.HEADER_SIZE_BYTES + VirtioVsock.MAX_PACKET_PAYLOAD_BYTES);
        String reason;
        Selector selector = selector(true);
        try {
            while (true) {
                buf.clear();
                int n = channel.read(buf);
                if (n < 0) {
                    reason = decoder.midFrame() ? "peer closed the link in the middle of a frame" : "peer closed the link";
                    break;
                }
                if (n == 0) {
                    if (!awaitReady(selector)) {
                        reason = null;
                        break;
                    }
                    continue;
                }
                buf.flip();
                Packet p;
                while ((p = decoder.next(buf)) != null) {
                    deliver(receiver, p);
                }
            }
        } catch (FrameDecoder.FrameException e) {
            reason = "bad frame from peer: " + e.getMessage();
        } catch (ClosedChannelException e) {
            reason = null;
        } catch (IOException e) {
            reason = "link read failed: " + e.getMessage();
        }
        goDown(reason == null ? "link closed" : reason);
        closeQuietly(selector); // with the writer's, the channel's deferred close completes
        lock.lock();
        try {
            reason = downReason;
        } finally {
            lock.unlock();
        }
        receiver.down(reason);
    }

    private static void deliver(Receiver receiver, Packet p) {
        try {
            receiver.packet(p);
        } catch (RuntimeException | Error e) {
            // One bad packet must not stop the link.
            Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), e);
        }
    }

    /**
     * The writer: takes up to a batch of frames and writes them in one gathering write. Once written, a
     * packet is done with (the link owned it), so its payload array goes back to the {@link PayloadPool}.
     */
    private void write() {
        List<ByteBuffer> frames = new ArrayList<>();
        List<Packet> packets = new ArrayList<>();
        Selector selector = selector(false);
        try {
            while (true) {
                lock.lock();
                try {
                    writing = false;
                    if (outbound.isEmpty() && unfinishedFrame == null && !writingInline) {
                        written.signalAll();
                    }
                    while ((writingInline || outbound.isEmpty() && unfinishedFrame == null) && downReason == null
                            && writeFailure == null) {
                        changed.awaitUninterruptibly();
                    }
                    if (downReason != null || writeFailure != null) {
                        return;
                    }
                    writing = true;
                    frames.clear();
                    packets.clear();
                    if (unfinishedFrame != null) {
                        frames.addAll(List.of(unfinishedFrame));
                        packets.add(unfinishedPacket);
                        unfinishedFrame = null;
                        unfinishedPacket = null;
                    }
                    Packet p;
                    for (int i = 0; i < MAX_BATCH_PACKETS && (p = outbound.pollFirst()) != null; i++) {
                        queuedBytes -= cost(p);
                        if (!isData(p)) {
                            queuedControlPackets--;
                        }
                        frames.addAll(List.of(FrameDecoder.encode(p)));
                        packets.add(p);
                    }
                } finally {
                    lock.unlock();
                }
                ByteBuffer[] batch = frames.toArray(ByteBuffer[]::new);
                long left = 0;
                for (ByteBuffer b : batch) {
                    left += b.remaining();
                }
                while (left > 0) {
                    long n = channel.write(batch);
                    left -= n;
                    if (n == 0 && !awaitReady(selector)) {
                        return;
                    }
                }
                for (Packet written : packets) {
                    PayloadPool.give(written.payload);
                }
                packets.clear();
            }
        } catch (ClosedChannelException e) {
            goDown("link closed");
        } catch (IOException e) {
            writeFailed("link write failed: " + e.getMessage());
        } finally {
            closeQuietly(selector);
            awaitReaderEnd();
        }
    }

    /** The reader's selector, or the writer's. */
    private Selector selector(boolean forReading) {
        lock.lock();
        try {
            return forReading ? readable : writable;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until the channel is ready for what {@code selector} watches; false once the link is going
     * down (goDown wakes both selectors).
     */
    private boolean awaitReady(Selector selector) throws IOException {
        if (isDown()) {
            return false;
        }
        selector.select();
        selector.selectedKeys().clear();
        return !isDown();
    }

    private boolean isDown() {
        lock.lock();
        try {
            return downReason != null;
        } finally {
            lock.unlock();
        }
    }

    private static void closeQuietly(Selector selector) {
        if (selector != null) {
            try {
                selector.close();
            } catch (IOException e) {
                // nothing to do: it was only for waiting
            }
        }
    }

    /**
     * A write failed: the peer closed, or stopped reading. What it sent before may still wait in the
     * socket (a closing process's last data and its SHUTDOWN), and it must be delivered, so the link does
     * not go down here, as a TCP socket still reads up to the peer's FIN after a write to it failed:
     * writing stops, what waited to be written is dropped (the peer will never read it), sends are dropped
     * from now on, and the reader goes on to the end of the stream, which takes the link down.
     */
    private void writeFailed(String reason) {
        lock.lock();
        try {
            if (downReason != null || writeFailure != null) {
                return;
            }
            writeFailure = reason;
            dropQueuedAndWake(false);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Under the lock, once nothing more will be written: forgets what waited to be written and wakes
     * whoever waits for the writer (senders in close, the writer itself) and, with {@code reader}, the
     * reader too.
     */
    private void dropQueuedAndWake(boolean reader) {
        outbound.clear();
        unfinishedFrame = null;
        unfinishedPacket = null;
        queuedBytes = 0;
        queuedControlPackets = 0;
        changed.signalAll();
        written.signalAll();
        if (writable != null) {
            writable.wakeup();
        }
        if (reader && readable != null) {
            readable.wakeup();
        }
    }

    /**
     * On the writer's thread as it ends: after a failed write, gives the reader up to the close timeout to
     * reach the peer's end of stream, then takes the link down whatever it read, so a peer that stopped
     * reading but never closes cannot keep its side of the link (its ports, on a shared machine) forever.
     * Returns at once when the link is down already.
     */
    private void awaitReaderEnd() {
        String reason;
        lock.lock();
        try {
            long left = VirtioVsock.CLOSE_TIMEOUT_NANOS;
            while (downReason == null && writeFailure != null && left > 0) {
                left = changed.awaitNanos(left);
            }
            if (downReason != null || writeFailure == null) {
                return;
            }
            reason = writeFailure + "; the peer did not close within "
                    + VirtioVsock.CLOSE_TIMEOUT_NANOS / 1_000_000_000L + " s";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            reason = writeFailure;
        } finally {
            lock.unlock();
        }
        goDown(reason);
    }

    /** Whether sends are still written: the link is up and no write has failed (tests). */
    boolean writesWork() {
        lock.lock();
        try {
            return downReason == null && writeFailure == null;
        } finally {
            lock.unlock();
        }
    }

    /** Marks the link down and closes the channel, which ends the reader and writer. */
    private void goDown(String reason) {
        lock.lock();
        try {
            if (downReason != null) {
                return;
            }
            downReason = reason;
            dropQueuedAndWake(true);
        } finally {
            lock.unlock();
        }
        try {
            // Registered with the selectors, the channel closes for good once both threads closed theirs.
            channel.close();
        } catch (IOException e) {
            // Closing is all we wanted.
        }
    }

    @Override
    public void close() {
        closeBy(System.nanoTime() + VirtioVsock.CLOSE_TIMEOUT_NANOS);
    }

    @Override
    public void closeBy(long deadlineNanos) {
        awaitWritten(deadlineNanos);
        goDown("link " + name + " closed here");
        Thread r;
        Thread w;
        lock.lock();
        try {
            r = reader;
            w = writer;
        } finally {
            lock.unlock();
        }
        for (Thread t : new Thread[] {r, w}) {
            if (t != null && t != Thread.currentThread()) {
                try {
                    t.join(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * Waits until the writer has written everything queued, the link went down, or the deadline passed.
     * Returns at once on the writer's own thread (it cannot wait for itself) or before {@link #start}.
     */
    private void awaitWritten(long deadlineNanos) {
        lock.lock();
        try {
            if (writer == null || writer == Thread.currentThread()) {
                return;
            }
            while (downReason == null && writeFailure == null
                    && (writing || writingInline || unfinishedFrame != null || !outbound.isEmpty())) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    LOG.log(System.Logger.Level.WARNING,
                            "link {0}: the peer did not take the last {1} queued bytes before the close; they are dropped",
                            name, queuedBytes);
                    return;
                }
                written.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // close at once; the caller sees the interrupt
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "unix link " + name;
    }
}
