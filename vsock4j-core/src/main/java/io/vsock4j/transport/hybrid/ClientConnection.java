package io.vsock4j.transport.hybrid;

import io.vsock4j.VsockAddress;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * One connection of {@link HybridClientTransport}: the far end of a virtio-vsock connection, played
 * over one Unix stream socket to a VMM. The engine talks packets to it as it would to a guest kernel;
 * this turns them into bytes on the socket and back:
 * <pre>
 *   engine                          this                                VMM's Unix socket
 *   REQUEST (2:e -> 3:5000)  ---->  connect uds_path, "CONNECT 5000\n" -->
 *                                                                  <--  "OK 1073741824\n"
 *            <---- RESPONSE
 *   RW                       ---->  write the bytes; fwd_cnt grows ---->
 *            <---- CREDIT_UPDATE    (when the queue is empty, or the engine would see less than a packet free)
 *            <---- RW               read no more than the engine's credit  <-- bytes
 *            <---- SHUTDOWN(SEND)   at end of stream                        <-- EOF
 *   SHUTDOWN(SEND)           ---->  shutdownOutput, after the queued bytes
 *   SHUTDOWN(RCV|SEND)       ---->  ... then RST back, as virtio does once both directions are shut
 *   RST                      ---->  close
 * </pre>
 * The VMM may also open the connection (the guest dialled host port P and the VMM connected to
 * {@code <uds_path>_P}): then this sends the REQUEST, from a port the transport made up since the Unix
 * socket does not carry the guest's, and waits for the engine's RESPONSE or RST.
 *
 * <p>Failures: a Unix socket that does not accept or closes without OK, a reply that is not
 * {@code OK <n>} within 32 bytes, a read or write error: RST to the engine (its connect fails with
 * ECONNRESET) and the socket closed. A VMM that says nothing: after the handshake timeout the socket is
 * closed and nothing is sent; the engine's connect has timed out with ETIMEDOUT by then, or does so at
 * its own timeout.
 *
 * <p>Threads: two virtual threads of the transport's {@link Workers}, a reader (handshake, then socket to
 * engine) and a writer (handshake deadline, then engine to socket). {@link #fromEngine} runs on the
 * engine's sending threads, often under its locks: it only queues and signals. Packets for the engine go
 * through the transport's delivery thread, which stamps them with this side's credit
 * ({@link #stamp}) just before handing them over, so the engine always sees fwd_cnt grow. {@code lock}
 * guards the fields below it and is never held during I/O or a delivery. {@link #end} from any thread
 * closes the socket, which wakes both threads; they then end.
 */
final class ClientConnection {
    private static final System.Logger LOG = System.getLogger(ClientConnection.class.getName());
    /** The receive buffer this side advertises: bytes the engine may have queued here for the VMM. */
    static final int BUF_ALLOC_BYTES = 256 * 1024;
    private static final int CHUNK_BYTES = VirtioVsock.MAX_PACKET_PAYLOAD_BYTES;

    private enum Phase {
        /** Engine-opened: connecting and waiting for OK. */
        HANDSHAKE,
        /** VMM-opened: our REQUEST is with the engine. */
        AWAIT_RESPONSE,
        OPEN
    }

    private final HybridClientTransport owner;
    final HybridClientTransport.Key key;
    /** The engine's end, the source of what it sends: (2, its port). */
    private final VsockAddress engineSide;
    /** Our end as the engine sees it: (guest CID, guest port or a made-up one). */
    private final VsockAddress peerSide;
    private final SocketChannel unix;
    /** The VMM's socket to dial, for an engine-opened connection; null when the VMM opened it. */
    private final Path dialPath;
    private final long handshakeDeadlineNanos;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // Guarded by lock.
    private Phase phase;
    private boolean ended;
    /** RW and SHUTDOWN packets from the engine, in order, for the writer. */
    private final ArrayDeque<Packet> toUnix = new ArrayDeque<>();
    /** The writer took a packet from {@code toUnix} and has not finished writing it. */
    private boolean writing;
    private int queuedBytes;
    /** Bytes written to the socket (our fwd_cnt) and the value the engine last heard. */
    private int fwdCnt;
    private int lastFwdCnt;
    /** The engine's buf_alloc and fwd_cnt from its latest packet, and the RW bytes we delivered. */
    private int peerBufAlloc;
    private int peerFwdCnt;
    private int txCnt;
    /** The engine shut RCV: reading stops. */
    private boolean engineStoppedReading;

    private ClientConnection(HybridClientTransport owner, HybridClientTransport.Key key, Phase phase, SocketChannel unix,
                             Path dialPath, long handshakeTimeoutNanos) {
        this.owner = owner;
        this.key = key;
        this.engineSide = VsockAddress.of(VsockAddress.CID_HOST, key.localPort());
        this.peerSide = VsockAddress.of(key.cid(), key.remotePort());
        this.phase = phase;
        this.unix = unix;
        this.dialPath = dialPath;
        this.handshakeDeadlineNanos = System.nanoTime() + handshakeTimeoutNanos;
    }

    /** For the engine's REQUEST: {@link #start} dials {@code path}. */
    static ClientConnection dial(HybridClientTransport owner, HybridClientTransport.Key key, Packet request, Path path,
                                 long handshakeTimeoutNanos) throws IOException {
        ClientConnection c = new ClientConnection(owner, key, Phase.HANDSHAKE,
                SocketChannel.open(StandardProtocolFamily.UNIX), path, handshakeTimeoutNanos);
        c.peerBufAlloc = request.bufAlloc;
        c.peerFwdCnt = request.fwdCnt;
        return c;
    }

    /** For a Unix connection the VMM made to {@code <uds_path>_P}: {@link #start} sends the REQUEST. */
    static ClientConnection accepted(HybridClientTransport owner, HybridClientTransport.Key key, SocketChannel unix) {
        return new ClientConnection(owner, key, Phase.AWAIT_RESPONSE, unix, null, 0);
    }

    /** Starts the two threads (and sends the REQUEST of a VMM-opened connection). Once, by the transport. */
    void start(Workers workers) {
        if (dialPath == null) {
            owner.deliver(this, control(VirtioVsock.OP_REQUEST, 0));
        }
        String name = "hybrid-client " + peerSide + "<->" + engineSide.port();
        workers.virtual(name + " read", this::readLoop);
        workers.virtual(name + " write", this::writeLoop);
    }

    // ------------------------------------------------------------------------------------------------
    // From the engine: any thread, never blocks.

    void fromEngine(Packet p) {
        Packet answer = null;
        boolean close = false;
        lock.lock();
        try {
            if (ended) {
                return;
            }
            if (p.op != VirtioVsock.OP_RST) {
                peerBufAlloc = p.bufAlloc;
                peerFwdCnt = p.fwdCnt;
            }
            switch (p.op) {
                case VirtioVsock.OP_RESPONSE -> {
                    if (phase == Phase.AWAIT_RESPONSE) {
                        phase = Phase.OPEN;
                    } else {
                        answer = Packet.resetFor(p);
                        close = true;
                    }
                }
                case VirtioVsock.OP_RW -> {
                    if (phase == Phase.OPEN && Integer.toUnsignedLong(queuedBytes) + p.len <= BUF_ALLOC_BYTES) {
                        if (p.len > 0) {
                            toUnix.add(p);
                            queuedBytes += p.len;
                        }
                    } else {
                        answer = Packet.resetFor(p); // before OPEN, or past our credit: the engine broke the protocol
                        close = true;
                    }
                }
                case VirtioVsock.OP_SHUTDOWN -> {
                    if ((p.flags & VirtioVsock.SHUTDOWN_RCV) != 0) {
                        engineStoppedReading = true;
                    }
                    toUnix.add(p);
                }
                case VirtioVsock.OP_CREDIT_UPDATE -> {
                    // The credit was taken above; the reader may go on.
                }
                case VirtioVsock.OP_CREDIT_REQUEST -> answer = control(VirtioVsock.OP_CREDIT_UPDATE, 0);
                case VirtioVsock.OP_RST -> close = true;
                default -> {
                    answer = Packet.resetFor(p);
                    close = true;
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (answer != null) {
            owner.deliver(this, answer);
        }
        if (close) {
            end();
        }
    }

    /** Fills the credit fields of a packet for the engine; on the delivery thread, just before delivery. */
    void stamp(Packet p) {
        if (p.op == VirtioVsock.OP_RST) {
            return;
        }
        lock.lock();
        try {
            p.bufAlloc = BUF_ALLOC_BYTES;
            p.fwdCnt = fwdCnt;
            lastFwdCnt = fwdCnt;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Socket to engine.

    private void readLoop() {
        try {
            byte[] first = dialPath != null ? handshake() : awaitResponse();
            if (first == null) {
                return;
            }
            ByteBuffer pending = ByteBuffer.wrap(first);
            ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES);
            while (true) {
                int room = awaitCredit();
                if (room == 0) {
                    return; // ended, or the engine reads no more
                }
                int n;
                if (pending.hasRemaining()) {
                    n = Math.min(room, pending.remaining());
                    pending.get(buf.array(), 0, n);
                } else {
                    n = unix.read(buf.clear().limit(room));
                }
                if (n < 0) {
                    owner.deliver(this, control(VirtioVsock.OP_SHUTDOWN, VirtioVsock.SHUTDOWN_SEND));
                    return;
                }
                Packet rw = control(VirtioVsock.OP_RW, 0);
                rw.payload = Arrays.copyOf(buf.array(), n); // exactly n: the engine may keep the array queued
                rw.len = n;
                lock.lock();
                try {
                    txCnt += n;
                } finally {
                    lock.unlock();
                }
                owner.deliver(this, rw);
            }
        } catch (IOException e) {
            failed("reading", e);
        } catch (InterruptedException e) {
            end();
        }
    }

    /** Connects, says CONNECT, reads OK; the bytes that came after OK's newline, or null when it failed. */
    private byte[] handshake() throws IOException {
        int port = peerSide.port();
        try {
            unix.connect(UnixDomainSocketAddress.of(dialPath));
        } catch (IOException e) {
            refused(dialPath + " does not accept (" + e.getMessage() + ")", DEBUG);
            return null;
        }
        UnixSockets.writeAll(unix, ("CONNECT " + Integer.toUnsignedString(port) + "\n").getBytes(StandardCharsets.US_ASCII));
        HandshakeLine ok = HandshakeLine.okReply();
        switch (ok.readFrom(unix)) {
            case INCOMPLETE -> {
                refused("the VMM closed without OK (nothing listens on guest port " + Integer.toUnsignedString(port) + ")", DEBUG);
                return null;
            }
            case INVALID -> {
                refused("the VMM's reply is not 'OK <n>' within " + HandshakeLine.MAX_LINE_BYTES + " bytes: " + ok.problem(), WARNING);
                return null;
            }
            case COMPLETE -> {
                lock.lock();
                try {
                    if (ended) {
                        return null;
                    }
                    phase = Phase.OPEN;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
                LOG.log(DEBUG, "hybrid-client {0}: connected to {1} (OK {2})", dialPath, peerSide, Integer.toUnsignedString(ok.value()));
                owner.deliver(this, control(VirtioVsock.OP_RESPONSE, 0));
                return ok.leftover();
            }
            default -> throw new IllegalStateException();
        }
    }

    private void refused(String why, System.Logger.Level level) {
        if (!isEnded()) {
            LOG.log(level, "hybrid-client: connect to {0} over {1} reset: {2}", peerSide, dialPath, why);
            owner.deliver(this, control(VirtioVsock.OP_RST, 0));
        }
        end();
    }

    /** VMM-opened: waits for the engine's RESPONSE; null when it answered RST instead. */
    private byte[] awaitResponse() throws InterruptedException {
        lock.lock();
        try {
            while (!ended && phase != Phase.OPEN) {
                changed.await();
            }
            return ended ? null : new byte[0];
        } finally {
            lock.unlock();
        }
    }

    /** Bytes the engine's credit allows now, waiting for some; 0 when reading is over. */
    private int awaitCredit() throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                if (ended || engineStoppedReading) {
                    return 0;
                }
                long inFlight = Integer.toUnsignedLong(txCnt - peerFwdCnt);
                long space = Integer.toUnsignedLong(peerBufAlloc) - inFlight;
                if (space > 0) {
                    return (int) Math.min(space, CHUNK_BYTES);
                }
                changed.await(); // a slow Java reader holds the VMM back here
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Engine to socket.

    private void writeLoop() {
        try {
            if (!awaitOpen()) {
                return;
            }
            int engineShut = 0;
            while (true) {
                Packet p = nextToUnix();
                if (p == null) {
                    return;
                }
                if (p.op == VirtioVsock.OP_RW) {
                    UnixSockets.writeAll(unix, p.payload, p.payloadOffset, p.len);
                    if (wrote(p.len)) {
                        owner.deliver(this, control(VirtioVsock.OP_CREDIT_UPDATE, 0));
                    }
                    continue;
                }
                engineShut |= p.flags & VirtioVsock.SHUTDOWN_BOTH;
                if ((p.flags & VirtioVsock.SHUTDOWN_SEND) != 0) {
                    unix.shutdownOutput();
                }
                doneWriting();
                if (engineShut == VirtioVsock.SHUTDOWN_BOTH) {
                    // Both directions shut by the engine and everything it sent written: virtio's RST.
                    owner.deliver(this, control(VirtioVsock.OP_RST, 0));
                    end();
                    return;
                }
            }
        } catch (IOException e) {
            failed("writing", e);
        } catch (InterruptedException e) {
            end();
        }
    }

    /** Waits for OK (or the engine's RESPONSE); at the handshake deadline, gives up. False when ended. */
    private boolean awaitOpen() throws InterruptedException {
        lock.lock();
        try {
            while (!ended && phase != Phase.OPEN) {
                if (phase == Phase.HANDSHAKE) {
                    long left = handshakeDeadlineNanos - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    changed.awaitNanos(left);
                } else {
                    changed.await();
                }
            }
            if (ended || phase == Phase.OPEN) {
                return !ended;
            }
        } finally {
            lock.unlock();
        }
        LOG.log(INFO, "hybrid-client: no answer from {0} to CONNECT {1} in time; closing it",
                dialPath, Integer.toUnsignedString(peerSide.port()));
        end();
        return false;
    }

    private Packet nextToUnix() throws InterruptedException {
        lock.lock();
        try {
            while (!ended && toUnix.isEmpty()) {
                changed.await();
            }
            if (ended) {
                return null;
            }
            writing = true;
            return toUnix.poll();
        } finally {
            lock.unlock();
        }
    }

    /** The writer is done with the packet {@link #nextToUnix} gave it; under the lock. */
    private void doneWritingLocked() {
        writing = false;
        if (toUnix.isEmpty()) {
            changed.signalAll(); // for awaitWritten: everything the engine sent is written
        }
    }

    /** The writer is done with a SHUTDOWN packet. */
    private void doneWriting() {
        lock.lock();
        try {
            doneWritingLocked();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every byte the engine sent is written to the socket, the connection ended, or the
     * deadline passed; true unless the deadline passed first. For the transport's close: the engine has
     * handed these bytes over, so its writer's {@code write()} returned long ago, and the kernel would
     * still deliver them after the socket was closed.
     */
    boolean awaitWritten(long deadlineNanos) throws InterruptedException {
        lock.lock();
        try {
            while (!ended && (writing || !toUnix.isEmpty())) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Counts {@code n} bytes written, the writer done with its packet; true when the engine should hear of the space (Credit's rule). */
    private boolean wrote(int n) {
        lock.lock();
        try {
            doneWritingLocked();
            fwdCnt += n;
            queuedBytes -= n;
            long freeSpaceEngineSees = BUF_ALLOC_BYTES - Integer.toUnsignedLong(fwdCnt - lastFwdCnt);
            return queuedBytes == 0 || freeSpaceEngineSees < CHUNK_BYTES;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // The end.

    private void failed(String doing, IOException e) {
        if (!isEnded()) {
            LOG.log(DEBUG, "hybrid-client {0}: {1} failed ({2}); reset", peerSide, doing, e.getMessage());
            owner.deliver(this, control(VirtioVsock.OP_RST, 0));
        }
        end();
    }

    private boolean isEnded() {
        lock.lock();
        try {
            return ended;
        } finally {
            lock.unlock();
        }
    }

    /** Closes the socket and leaves the transport's table; both threads end. Idempotent, any thread. */
    void end() {
        lock.lock();
        try {
            if (ended) {
                return;
            }
            ended = true;
            toUnix.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            unix.close();
        } catch (IOException e) {
            // Released either way.
        }
        owner.removed(this);
    }

    private Packet control(int op, int flags) {
        return Packet.control(VirtioVsock.TYPE_STREAM, op, flags, peerSide, engineSide);
    }
}
