package io.vsock4j.cli.nc;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code -i/--idle-timeout}: fires once when nothing was read from stdin or from the peer for the
 * timeout while armed. As in ncat, a listener arms it only while a client is connected; a client arms
 * it for the whole connection. Firing runs the expiry action on the timer's own daemon thread, which
 * wakes the session (the action closes the channel and stops the feeder).
 *
 * <p>Threads: {@link #touch} from the feeder and session threads (a volatile write); arm, disarm and
 * close from the session thread. {@link #armed}, {@link #fired} and {@link #closed} are guarded by
 * {@link #lock}.
 */
final class IdleTimer implements AutoCloseable {
    private final long timeoutNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private volatile long lastActivityNanos = System.nanoTime();
    private volatile Runnable onExpiry = () -> { };
    private boolean armed;
    private boolean fired;
    private boolean closed;

    /** A timer that never fires when {@code timeoutMillis} is 0 (no -i given). */
    IdleTimer(long timeoutMillis) {
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        if (timeoutNanos > 0) {
            Thread.ofPlatform().name("vsock-nc-idle").daemon(true).start(this::watch);
        }
    }

    /** Something was read: the idle stretch starts again. */
    void touch() {
        lastActivityNanos = System.nanoTime();
    }

    /** Starts timing (from now), running {@code action} on expiry. */
    void arm(Runnable action) {
        lock.lock();
        try {
            onExpiry = action;
            touch();
            armed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void disarm() {
        lock.lock();
        try {
            armed = false;
        } finally {
            lock.unlock();
        }
    }

    boolean fired() {
        lock.lock();
        try {
            return fired;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the timer fires (ncat's client lingers so after both directions ended under -i). */
    void awaitFired() throws InterruptedException {
        lock.lock();
        try {
            while (!fired && timeoutNanos > 0) {
                changed.await();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void watch() {
        lock.lock();
        try {
            while (!closed) {
                long left = lastActivityNanos + timeoutNanos - System.nanoTime();
                if (!armed) {
                    changed.awaitUninterruptibly();
                } else if (left > 0) {
                    changed.awaitNanos(left);
                } else {
                    fired = true;
                    changed.signalAll();
                    break;
                }
            }
        } catch (InterruptedException stopped) {
            return;
        } finally {
            lock.unlock();
        }
        if (fired) {
            onExpiry.run();
        }
    }
}
