package io.vsock4j.transport.vhostuser;

import io.vsock4j.internal.ffm.NativeErrors;
import io.vsock4j.transport.link.PacketLink;
import io.vsock4j.virtqueue.DescriptorChain;
import io.vsock4j.virtqueue.SplitQueue;
import io.vsock4j.virtqueue.VirtioRing;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The ring thread of one guest's vsock device for one VMM session: it moves packets between the guest's
 * rx and tx virtqueues and the host's engine, and is the {@link PacketLink} the host's H2G transport
 * sees for that guest from the session's first ring start until the VMM leaves (then the link goes
 * down and the guest's connections are reset; the next VMM gets a new instance).
 *
 * <p><b>What it does on each wake-up.</b> It sleeps in poll(2) on its eventfds: the tx kick (the
 * driver queued packets), the rx kick (the driver posted receive buffers), the event ring's kick when a
 * frontend hands that ring over (the driver posted event buffers) and its own {@link Wakeup} (the
 * engine queued a packet for the guest, or the rings changed). Then, holding {@link #lock}: it pops every
 * tx chain, turns each into a {@link Packet} ({@link GuestPackets}) and gives the chain back; it fills rx
 * buffers from the packets waiting for the guest; it writes an owed TRANSPORT_RESET into an event buffer; it signals the call eventfds the driver asked for. Only
 * after letting go of the lock does it hand the guest's packets to the engine, in order, so an engine
 * that answers at once (RESPONSE, RST, credit) only queues and wakes this thread again.
 *
 * <p><b>Who calls what.</b> The vhost-user backend's thread starts and stops rings ({@link #start},
 * {@link #stop}); a stop returns only once this thread has let go of the ring's memory and eventfds, as
 * {@link VhostUserDevice#queueStopped} requires: it bumps {@link #generation}, wakes this thread, and
 * waits until the thread has come back round to the top of its loop, where it polls only descriptors of
 * the current generation. Any thread may {@link #send}; it never blocks. Packets for the guest wait in
 * an unbounded queue while the driver posts no buffers, as in vhost; the engine's credit bounds the
 * data among them.
 */
final class VsockRings implements PacketLink, Runnable {
    private static final System.Logger LOG = System.getLogger(VsockRings.class.getName());
    static final int RX = 0;
    static final int TX = 1;
    /** The event queue: only a frontend that hands it over (QEMU's vhost-user-vsock keeps it) starts it. */
    static final int EVENT = 2;
    static final int RINGS = 3;
    /**
     * The most tx chains one wake-up takes before it serves rx and delivers: vhost's
     * VHOST_VSOCK_PKT_WEIGHT, so a guest that keeps its tx ring full cannot starve rx, hold the lock a
     * ring stop waits for, or pile up undelivered packets without bound.
     */
    static final int TX_CHAINS_PER_WAKEUP = 256;
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String name;
    private final Wakeup wakeup;
    private final Queue<Packet> toGuest = new ConcurrentLinkedQueue<>();
    private final AtomicLong refused = new AtomicLong();
    private final GuestPackets codec = new GuestPackets();

    /** Guards the rings, their eventfds, the generations and closed. Never held across poll or delivery. */
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when the ring thread reaches the top of its loop (seenGeneration catches up). */
    private final Condition caughtUp = lock.newCondition();
    private final SplitQueue[] queues = new SplitQueue[RINGS];
    private final EventFd[] kicks = new EventFd[RINGS];
    private final EventFd[] calls = new EventFd[RINGS];
    /** Whether the event ring has started in this session; a TRANSPORT_RESET is owed from then until a buffer takes it. */
    private boolean eventRingStarted;
    private boolean resetOwed;
    private long generation;
    private long seenGeneration;
    private boolean closed;
    private boolean threadDone;
    /** Counters for {@link #counters()}, changed by the ring thread under the lock. */
    private long wakeups;
    private long txChains;
    private long rxChains;
    private long interrupts;

    /** Set by start; the ring thread reads it to deliver. */
    private volatile PacketLink.Receiver receiver;
    /** Between start and the link going down. */
    private final AtomicBoolean up = new AtomicBoolean();

    // Ring thread only.
    private final ArrayDeque<Packet> pendingForGuest = new ArrayDeque<>();
    private int pendingOffset;
    private final List<Packet> fromGuest = new ArrayList<>();
    /** Whether the broken state of each ring was logged (once per ring start). */
    private final boolean[] brokenLogged = new boolean[RINGS];
    private DescriptorChain chain = new DescriptorChain(1);

    VsockRings(String name) throws IOException {
        this.name = name;
        this.wakeup = new Wakeup();
    }

    // ---- PacketLink: the H2G transport's view of this guest ----

    @Override
    public void start(PacketLink.Receiver r) {
        receiver = r;
        up.set(true);
    }

    @Override
    public void send(Packet packet) {
        if (!up.get()) {
            return; // no VMM: vhost drops packets for a guest that is not running
        }
        toGuest.add(packet);
        wake();
    }

    /** The VMM is gone: the guest's connections are reset by the transport, its queued packets dropped. */
    @Override
    public void close() {
        down("the VMM disconnected");
    }

    void down(String reason) {
        PacketLink.Receiver r = receiver;
        if (up.compareAndSet(true, false)) {
            toGuest.clear();
            wake();
            if (r != null) {
                r.down(reason);
            }
        }
    }

    boolean isUp() {
        return up.get();
    }

    // ---- Rings, from the backend's thread ----

    /**
     * Starts ring {@code index} (RX, TX or EVENT); the ring thread polls its kick from now on. The event
     * ring's first start in this VMM session owes the driver one TRANSPORT_RESET: a driver whose device
     * (re)started under it may hold connections this device has never heard of, and the event makes it
     * reset them and re-read its CID, as QEMU makes it after a migration; to a driver that has just
     * probed it is harmless. Later starts in the same session (the backend restarts every ring around a
     * memory-table change) owe nothing: those connections are this session's own.
     */
    void start(int index, SplitQueue queue, EventFd kick, EventFd call) {
        lock.lock();
        try {
            if (index == EVENT && !eventRingStarted) {
                eventRingStarted = true;
                resetOwed = true;
            }
            queues[index] = queue;
            kicks[index] = kick;
            calls[index] = call;
            brokenLogged[index] = false;
            if (chain.capacity() < queue.size()) {
                chain = new DescriptorChain(queue.size());
            }
            generation++;
        } finally {
            lock.unlock();
        }
        wake();
    }

    /**
     * Stops ring {@code index} and returns its next available index, once the ring thread no longer uses
     * the ring, its memory or its eventfds. Returns -1 if the ring was not running.
     */
    int stop(int index) {
        lock.lock();
        try {
            SplitQueue q = queues[index];
            if (q == null) {
                return -1;
            }
            queues[index] = null;
            kicks[index] = null;
            calls[index] = null;
            long wanted = ++generation;
            wake();
            while (seenGeneration < wanted && !threadDone) {
                caughtUp.awaitUninterruptibly();
            }
            return q.nextAvail();
        } finally {
            lock.unlock();
        }
    }

    /** Ends the ring thread. */
    void shutdown() {
        lock.lock();
        try {
            closed = true;
        } finally {
            lock.unlock();
        }
        wake();
    }

    /** What the ring thread has done so far (any thread; takes the lock briefly). */
    RingCounters counters() {
        lock.lock();
        try {
            return new RingCounters(wakeups, txChains, rxChains, interrupts);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether the ring thread has taken every packet sent so far off the queue {@link #send} fills (any
     * thread). From then on the next rx buffers are filled from all of them together (tests).
     */
    boolean tookEverySend() {
        return toGuest.isEmpty();
    }

    /** Chains refused from the guest's tx ring (bad headers, lengths), and packets the ring could not take. */
    long refusedPackets() {
        return refused.get();
    }

    private void wake() {
        try {
            wakeup.signal();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, name + ": cannot wake the ring thread", e);
        }
    }

    // ---- The ring thread ----

    @Override
    public void run() {
        int[] fds = new int[1 + RINGS];
        short[] events = {UnixAbi.POLLIN, UnixAbi.POLLIN, UnixAbi.POLLIN, UnixAbi.POLLIN};
        short[] revents = new short[1 + RINGS];
        boolean skipped = false;
        try {
            while (true) {
                int timeoutMillis;
                lock.lock();
                try {
                    seenGeneration = generation;
                    caughtUp.signalAll();
                    if (closed) {
                        return;
                    }
                    fds[0] = wakeup.fd();
                    boolean polling = false;
                    for (int index = 0; index < RINGS; index++) {
                        fds[1 + index] = kicks[index] == null ? -1 : kicks[index].fd();
                        // A frontend that sent no kick eventfd (the no-fd flag) wants the ring polled.
                        polling |= queues[index] != null && kicks[index] == null && (index != EVENT || resetOwed);
                    }
                    // After a round skipped for a ring change, the work it left (consumed wake-ups) is looked at at once.
                    timeoutMillis = skipped ? 0 : polling ? 1 : -1;
                } finally {
                    lock.unlock();
                }
                int r = UnixNative.poll(fds, events, revents, timeoutMillis);
                if (r < 0 && r != -io.vsock4j.spi.Errno.EINTR.number()) {
                    throw NativeErrors.exception(-r, "poll");
                }
                wakeup.rearm(); // before looking for work: see Wakeup for the order inside
                lock.lock();
                try {
                    skipped = generation != seenGeneration;
                    if (skipped) {
                        continue; // rings changed while polling: the descriptors polled may be gone
                    }
                    serveRings();
                } finally {
                    lock.unlock();
                }
                deliver();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, name + ": ring thread failed; the guest's link goes down", e);
            down("the device's ring thread failed: " + e);
        } finally {
            lock.lock();
            try {
                threadDone = true;
                caughtUp.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Under the lock: both rings, until neither has work the driver could be waiting on. */
    private void serveRings() throws IOException {
        wakeups++;
        for (int index = 0; index < RINGS; index++) {
            if (kicks[index] != null) {
                kicks[index].drain();
            }
        }
        SplitQueue tx = queues[TX];
        if (tx != null) {
            serveTx(tx);
        }
        SplitQueue rx = queues[RX];
        if (up.get()) {
            for (Packet p; (p = toGuest.poll()) != null; ) {
                pendingForGuest.add(p);
            }
        } else {
            pendingForGuest.clear();
            pendingOffset = 0;
        }
        if (rx != null) {
            serveRx(rx);
        }
        SplitQueue event = queues[EVENT];
        if (event != null && resetOwed) {
            serveEvent(event);
        }
    }

    /**
     * Takes the packets the driver queued, up to {@link #TX_CHAINS_PER_WAKEUP}; when more wait, wakes this
     * thread again so they are taken after rx was served and the taken ones delivered. A refused chain is
     * given back unread and counted.
     */
    private void serveTx(SplitQueue tx) throws IOException {
        int budget = TX_CHAINS_PER_WAKEUP;
        do {
            tx.disableKicks();
            while (budget > 0 && tx.pop(chain)) {
                budget--;
                txChains++;
                Packet p = codec.read(chain);
                tx.addUsed(chain.head(), 0);
                if (p == null) {
                    refuse(codec.refusal());
                } else if (up.get()) {
                    fromGuest.add(p);
                }
            }
            signalIfAsked(tx, TX);
            if (budget == 0) {
                wake(); // more may wait: come back after rx and delivery, without a kick
                return;
            }
            tx.enableKicks();
        } while (tx.hasAvailable());
        if (tx.isBroken() && !brokenLogged[TX]) {
            brokenLogged[TX] = true;
            LOG.log(System.Logger.Level.WARNING, name + ": the guest broke its tx ring (" + tx.brokenBy() + "); it is no longer served");
        }
    }

    /**
     * Fills the driver's receive buffers with the packets waiting for the guest, splitting large ones and
     * joining a stream's consecutive ones ({@link GuestPackets#fill}).
     */
    private void serveRx(SplitQueue rx) throws IOException {
        while (!pendingForGuest.isEmpty()) {
            if (!rx.pop(chain)) {
                // Out of buffers: ask for a kick when the driver posts more, then look once more.
                rx.enableKicks();
                if (!rx.pop(chain)) {
                    break;
                }
            }
            int used = codec.fill(pendingForGuest, pendingOffset, chain);
            if (used < 0) {
                rx.addUsed(chain.head(), 0);
                refuse("an rx chain the device cannot write a header into (" + chain.readableCount()
                        + " device-readable buffers, " + chain.writableBytes() + " writable bytes)");
                continue;
            }
            rx.addUsed(chain.head(), used);
            rxChains++;
            pendingOffset = codec.nextOffset();
        }
        signalIfAsked(rx, RX);
    }

    /**
     * Writes the owed TRANSPORT_RESET into the driver's next event buffer. Without one, asks for a kick
     * and waits for it; a chain with no room for the event is given back empty, as an unusable rx chain is.
     */
    private void serveEvent(SplitQueue event) throws IOException {
        while (resetOwed) {
            if (!event.pop(chain)) {
                event.enableKicks();
                if (!event.pop(chain)) {
                    break;
                }
            }
            if (chain.writableCount() == 0 || chain.writableLength(0) < VirtioVsock.EVENT_SIZE_BYTES) {
                event.addUsed(chain.head(), 0);
                refuse("an event chain without " + VirtioVsock.EVENT_SIZE_BYTES + " writable bytes in its first writable buffer");
                continue;
            }
            chain.writable(0).set(LE32, 0, VirtioVsock.EVENT_TRANSPORT_RESET);
            event.addUsed(chain.head(), VirtioVsock.EVENT_SIZE_BYTES);
            resetOwed = false;
            LOG.log(System.Logger.Level.INFO, name + ": sent the guest TRANSPORT_RESET");
        }
        signalIfAsked(event, EVENT);
    }

    private void signalIfAsked(SplitQueue q, int index) throws IOException {
        if (q.needsInterrupt() && calls[index] != null) {
            calls[index].signal();
            interrupts++;
        }
    }

    private void refuse(String why) {
        if (refused.incrementAndGet() <= 10) {
            LOG.log(System.Logger.Level.WARNING, name + ": refused " + why);
        }
    }

    /** Outside the lock: the guest's packets into the engine, in ring order. */
    private void deliver() {
        PacketLink.Receiver r = receiver;
        if (!fromGuest.isEmpty()) {
            if (r != null && up.get()) {
                for (Packet p : fromGuest) {
                    r.packet(p);
                }
            }
            fromGuest.clear();
        }
    }

    /** The ring thread has ended: closes the wake-up eventfd. Call after the thread is joined. */
    void release() {
        wakeup.close();
    }

    @Override
    public String toString() {
        return "vsock rings " + name;
    }

    static boolean eventIdx(long ackedFeatures) {
        return (ackedFeatures & (1L << VirtioRing.F_EVENT_IDX_BIT)) != 0;
    }
}
