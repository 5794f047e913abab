package io.vsock4j.transport.loopback;

import io.vsock4j.SocketType;
import io.vsock4j.wire.Packet;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The LOCAL transport in Java, as net/vmw_vsock/vsock_loopback.c is in the kernel: CID 1, and every
 * packet sent is fed back into the same machine's receive path. Both ends of a connection therefore
 * run the full engine (handshake, credit, shutdown) and no byte takes a shortcut from one socket to the
 * other.
 *
 * <p>Threads: {@link #send} from any thread only appends to a lock-free queue. Delivery happens in
 * {@link #flush}, on whichever sending thread gets there first: it takes the delivery token and feeds
 * queued packets to the machine, oldest first, until the queue is empty; a thread that finds the token
 * taken returns at once, because the holder will deliver its packets too. So there is exactly one
 * delivering thread at a time, packets arrive in the order they were sent, and no thread of the
 * transport's own exists. (The kernel hands packets to a worker instead; profiling showed that hand-off,
 * a lock shared by sender and worker and the wake-up per batch, to be more than half the cost of a
 * 64 KiB write here, so the JVM version delivers on the sender's thread.)
 *
 * <p>The engine calls {@link #flush} only while it holds none of its locks (io.vsock4j.engine.Connection
 * says so once), so the delivering thread takes each receiving connection's lock with nothing else
 * held, and what those connections queue in answer is delivered by the same loop. A thread that finds
 * the token taken never waits for anything, so no cycle of lock waits can form.
 */
public final class LoopbackTransport implements Transport {
    private final ConcurrentLinkedQueue<Packet> queue = new ConcurrentLinkedQueue<>();
    /** The delivery token: true while one thread is delivering. */
    private final AtomicBoolean delivering = new AtomicBoolean();
    private volatile PacketReceiver receiver;
    private volatile boolean closed;

    @Override
    public TransportRole role() {
        return TransportRole.LOCAL;
    }

    @Override
    public boolean supports(SocketType type) {
        return true;
    }

    @Override
    public void start(PacketReceiver packetReceiver) {
        if (receiver != null) {
            throw new IllegalStateException("loopback transport already started");
        }
        receiver = packetReceiver;
    }

    @Override
    public void send(Packet packet) {
        if (!closed) {
            queue.offer(packet);
        }
    }

    @Override
    public void flush() {
        PacketReceiver r = receiver;
        if (r == null) {
            return;
        }
        // Re-check after giving the token back: a packet queued by a thread that found the token taken
        // just before we released it would otherwise wait for the next send.
        while (!queue.isEmpty() && delivering.compareAndSet(false, true)) {
            try {
                Packet p;
                while ((p = queue.poll()) != null) {
                    deliver(r, p);
                }
            } finally {
                delivering.set(false);
            }
        }
    }

    private void deliver(PacketReceiver r, Packet p) {
        try {
            r.receive(this, p);
        } catch (RuntimeException | Error e) {
            // One bad packet must not stop every connection of the machine.
            Thread t = Thread.currentThread();
            t.getUncaughtExceptionHandler().uncaughtException(t, e);
        }
    }

    @Override
    public void close() {
        closed = true;
        queue.clear();
    }

    @Override
    public String toString() {
        return "java-loopback (CID 1)";
    }
}
