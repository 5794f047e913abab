package io.vsock4j.transport.loopback;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.engine.Packet;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The LOCAL transport in Java, as net/vmw_vsock/vsock_loopback.c is in the kernel: CID 1, and every
 * packet sent is queued to a worker that feeds it back into the same machine's receive path. Both ends
 * of a connection therefore run the full engine (handshake, credit, shutdown) and no byte takes a
 * shortcut from one socket to the other.
 *
 * <p>Threads: {@link #send} from any thread (it only queues); one daemon worker thread,
 * "vsock4j-loopback", delivers packets in the order they were sent. Delivery runs without the queue
 * lock held, so a packet handler may send more packets. {@link #close()} stops the worker.
 */
public final class LoopbackTransport implements Transport {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    /** Guarded by lock. */
    private ArrayDeque<Packet> queue = new ArrayDeque<>();
    /** Guarded by lock. */
    private boolean closed;
    private Thread worker;

    @Override
    public TransportRole role() {
        return TransportRole.LOCAL;
    }

    @Override
    public int localCid() {
        return VsockAddress.CID_LOCAL;
    }

    @Override
    public boolean supports(SocketType type) {
        return true;
    }

    @Override
    public void start(PacketReceiver receiver) {
        lock.lock();
        try {
            if (worker != null) {
                throw new IllegalStateException("loopback transport already started");
            }
            worker = Thread.ofPlatform().name("vsock4j-loopback").daemon(true).unstarted(() -> deliver(receiver));
            worker.start();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void send(Packet packet) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            queue.addLast(packet);
            if (queue.size() == 1) {
                notEmpty.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The worker: takes every queued packet at once, then delivers them in order outside the lock. */
    private void deliver(PacketReceiver receiver) {
        ArrayDeque<Packet> batch = new ArrayDeque<>();
        while (true) {
            lock.lock();
            try {
                while (queue.isEmpty() && !closed) {
                    notEmpty.awaitUninterruptibly();
                }
                if (closed) {
                    return;
                }
                ArrayDeque<Packet> full = queue;
                queue = batch;
                batch = full;
            } finally {
                lock.unlock();
            }
            Packet p;
            while ((p = batch.pollFirst()) != null) {
                try {
                    receiver.receive(this, p);
                } catch (RuntimeException | Error e) {
                    // One bad packet must not stop every connection of the machine.
                    Thread.UncaughtExceptionHandler h = Thread.currentThread().getUncaughtExceptionHandler();
                    h.uncaughtException(Thread.currentThread(), e);
                }
            }
        }
    }

    @Override
    public void close() {
        Thread w;
        lock.lock();
        try {
            closed = true;
            queue.clear();
            notEmpty.signalAll();
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
        return "java-loopback (CID 1)";
    }
}
