package io.vsock4j.engine;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * How a blocked socket call waits for its connection, and how it is woken: the connection's lock, one
 * condition for readers and one for writers, and a counter of wake-ups.
 *
 * <p>Waiting is spin, then park. A caller that must wait first lets go of the lock and runs
 * {@code beforeWait} (the connection flushes its queued packets there: the answer it waits for may
 * depend on them, and may even be delivered on this very thread). Then it spins, lock still released,
 * up to {@link #SPIN_NANOS} while the counter stays put; only then does it park on the condition. On a VM
 * an idle vCPU that parks pays the hypervisor's wake-up (tens of microseconds measured here), and on the
 * loopback the answer usually comes sooner than that (docs/benchmarks.md: round trip 49 us without the
 * spin, 1.7 us with it). {@code -Dvsock4j.spinMicros=0} turns the spin off.
 *
 * <p>No wake-up is lost: every signal increments the counter under the lock, the waiter compares the
 * counter it saw before letting go with the one it sees after taking the lock back, and between that
 * check and the park nobody can signal (signalling needs the lock).
 *
 * <p>Threads: any; {@link #await} is called with the lock held exactly once (the engine never nests its
 * lock, so letting go of it exposes no caller's half-done state).
 */
final class Wakeups {
    private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(Long.getLong("vsock4j.spinMicros", 30));

    final ReentrantLock lock = new ReentrantLock();
    private final Condition readable = lock.newCondition();
    private final Condition writable = lock.newCondition();
    /** Written under the lock; volatile for the spinner, which reads it without. */
    private volatile long count;

    void wakeReaders() {
        count++;
        readable.signalAll();
    }

    void wakeWriters() {
        count++;
        writable.signalAll();
    }

    /** Waits as a reader; see {@link #await}. */
    long awaitReadable(long nanos, Runnable beforeWait) throws InterruptedException {
        return await(readable, nanos, beforeWait);
    }

    /** Waits as a writer; see {@link #await}. */
    long awaitWritable(long nanos, Runnable beforeWait) throws InterruptedException {
        return await(writable, nanos, beforeWait);
    }

    /**
     * Waits until woken or {@code nanos} pass ({@code Long.MAX_VALUE}: no limit). Returns with the lock
     * held, and the nanoseconds left (the caller re-checks what it waits for either way).
     */
    private long await(Condition condition, long nanos, Runnable beforeWait) throws InterruptedException {
        if (lock.getHoldCount() != 1) {
            throw new IllegalStateException("the engine's lock must be held exactly once to wait");
        }
        long seen = count;
        long start = System.nanoTime();
        lock.unlock();
        try {
            beforeWait.run();
            long limit = Math.min(SPIN_NANOS, nanos);
            while (count == seen && System.nanoTime() - start < limit) {
                Thread.onSpinWait();
            }
        } finally {
            lock.lock();
        }
        if (count != seen) {
            return nanos == Long.MAX_VALUE ? nanos : nanos - (System.nanoTime() - start);
        }
        if (nanos == Long.MAX_VALUE) {
            condition.await();
            return nanos;
        }
        return condition.awaitNanos(nanos - (System.nanoTime() - start));
    }
}
