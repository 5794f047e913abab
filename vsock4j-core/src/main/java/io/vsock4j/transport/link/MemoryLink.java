package io.vsock4j.transport.link;

import io.vsock4j.wire.Packet;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A link inside one JVM: two ends, each with a queue of packets the other end sent and a daemon worker
 * that delivers them, as a virtqueue carries a guest's buffers to its device. Packets are handed over
 * as objects (the sender gave up ownership); nothing is shared but the queue.
 *
 * <p>Threads: {@link #send} from any thread; one worker per end, named after the link, delivers in
 * order without holding the queue lock, so a receiver may send. Closing either end takes both down.
 */
public final class MemoryLink implements PacketLink {
    private final String name;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Packets the other end sent to this one. Guarded by lock. */
    private ArrayDeque<Packet> inbound = new ArrayDeque<>();
    /** Guarded by lock. */
    private boolean down;
    /** Guarded by lock. */
    private String downReason;
    /** Guarded by lock. */
    private Thread worker;
    private MemoryLink peer;

    private MemoryLink(String name) {
        this.name = name;
    }

    /** Two connected ends: {@code ends[0]} for the host, {@code ends[1]} for the guest. */
    public static MemoryLink[] pair(String name) {
        MemoryLink host = new MemoryLink(name + "/host");
        MemoryLink guest = new MemoryLink(name + "/guest");
        host.peer = guest;
        guest.peer = host;
        return new MemoryLink[] {host, guest};
    }

    @Override
    public void start(Receiver receiver) {
        lock.lock();
        try {
            if (worker != null) {
                throw new IllegalStateException("link " + name + " already started");
            }
            worker = Thread.ofPlatform().name("vsock4j-link-" + name).daemon(true).unstarted(() -> deliver(receiver));
            worker.start();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void send(Packet packet) {
        peer.arrive(packet);
    }

    private void arrive(Packet packet) {
        lock.lock();
        try {
            if (down) {
                return;
            }
            inbound.addLast(packet);
            if (inbound.size() == 1) {
                changed.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The worker: swaps the queue out under the lock, delivers the batch outside it. */
    private void deliver(Receiver receiver) {
        ArrayDeque<Packet> batch = new ArrayDeque<>();
        while (true) {
            String reason;
            lock.lock();
            try {
                while (inbound.isEmpty() && !down) {
                    changed.awaitUninterruptibly();
                }
                ArrayDeque<Packet> full = inbound;
                inbound = batch;
                batch = full;
                reason = down ? downReason : null;
            } finally {
                lock.unlock();
            }
            Packet p;
            while (reason == null && (p = batch.pollFirst()) != null) {
                try {
                    receiver.packet(p);
                } catch (RuntimeException | Error e) {
                    // One bad packet must not stop the link.
                    Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), e);
                }
            }
            batch.clear();
            if (reason != null) {
                receiver.down(reason);
                return;
            }
        }
    }

    /** Takes this end down; the worker reports {@code reason} and ends. Returns whether it was up. */
    private boolean goDown(String reason) {
        lock.lock();
        try {
            if (down) {
                return false;
            }
            down = true;
            downReason = reason;
            inbound.clear();
            changed.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        if (goDown("link " + name + " closed here")) {
            peer.goDown("link " + name + " closed by the other end");
        }
        Thread w;
        lock.lock();
        try {
            w = worker;
        } finally {
            lock.unlock();
        }
        if (w != null && w != Thread.currentThread()) {
            try {
                w.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "memory link " + name;
    }
}
