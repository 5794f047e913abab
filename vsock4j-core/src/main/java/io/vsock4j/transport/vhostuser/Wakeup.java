package io.vsock4j.transport.vhostuser;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A ring thread's wake-up: an eventfd it polls beside the kicks, and a flag that spares one write(2) per
 * packet while a wake-up is already on its way. The waker puts its work where the ring thread looks
 * (a queue) and then calls {@link #signal}; the ring thread, when poll returns, calls {@link #rearm}
 * and only then looks for work.
 *
 * <p>Rearm reads the counter first and clears the flag second. The other order loses wake-ups: a
 * signal that lands between the clear and the read sets the flag and is read away with it, so the ring
 * thread goes back to poll with the flag still set and every later signal skips its write, until a
 * kick happens to wake the thread (seen across the vhost-user device: the JVM's REQUESTs to a guest
 * sat in the queue for 30 s, until the guest sent something itself).
 *
 * <p>Threads: {@link #signal} from any thread; {@link #rearm} from the ring thread only.
 */
final class Wakeup implements AutoCloseable {
    private final EventFd eventFd;
    /** True from a signal's flag-set until the ring thread's next rearm; while true, a write is pending or read. */
    private final AtomicBoolean pending = new AtomicBoolean();

    Wakeup() throws IOException {
        this.eventFd = EventFd.create();
    }

    /** The descriptor the ring thread polls. */
    int fd() {
        return eventFd.fd();
    }

    /** Wakes the ring thread, unless a wake-up is pending already. Call after queueing the work. */
    void signal() throws IOException {
        if (pending.compareAndSet(false, true)) {
            eventFd.signal();
        }
    }

    /** The ring thread, after poll: consumes the wake-ups so far, then lets the next signal write again. */
    void rearm() throws IOException {
        eventFd.drain();
        pending.set(false);
    }

    @Override
    public void close() {
        eventFd.close();
    }
}
