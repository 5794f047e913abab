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
 * <p>The spin adapts, as a JVM's spinning on a contended monitor does: it pays only when the answer comes
 * from a thread that is running now (the loopback's other end in this JVM). When it comes from another
 * process (a shared machine's daemon, a guest), the spin burns a core that the other end needed: on two
 * cores, three processes moving 64 KiB packets ran about a fifth faster without it (docs/benchmarks.md).
 * So after {@link #FAILED_SPINS_BEFORE_PARKING} spins in a row that ended without the wake-up, the waits
 * of this connection park at once, and every {@link #PROBE_INTERVAL}-th wait spins again to see whether
 * it pays now; one spin that does turns spinning back on.
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
    /** Spins in a row without the wake-up after which waits stop spinning. */
    static final int FAILED_SPINS_BEFORE_PARKING = 3;
    /** While spinning is off, one wait in this many spins anyway, as a probe. */
    static final int PROBE_INTERVAL = 16;

    final ReentrantLock lock = new ReentrantLock();
    private final Condition readable = lock.newCondition();
    private final Condition writable = lock.newCondition();
    /** Written under the lock; volatile for the spinner, which reads it without. */
    private volatile long count;
    /** Spins in a row that ended without the wake-up. Guarded by lock. */
    private int failedSpins;
    /** Waits that did not spin since spinning went off, for the probe. Guarded by lock. */
    private int skippedSpins;
    /** Spins that ended with the wake-up. Guarded by lock. */
    private long spinsWon;
    /** Spins that ended without it (the wait parked or timed out). Guarded by lock. */
    private long spinsLost;

    void wakeReaders() {
        count++;
        readable.signalAll();
    }

    void wakeWriters() {
        count++;
        writable.signalAll();
    }

    /** Spins so far that ended with the wake-up. Under the lock. */
    long spinsWon() {
        return spinsWon;
    }

    /** Spins so far that ended without it. Under the lock. */
    long spinsLost() {
        return spinsLost;
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
        boolean spin = SPIN_NANOS > 0
                && (failedSpins < FAILED_SPINS_BEFORE_PARKING || ++skippedSpins % PROBE_INTERVAL == 0);
        lock.unlock();
        try {
            beforeWait.run();
            if (spin) {
                long limit = Math.min(SPIN_NANOS, nanos);
                while (count == seen && System.nanoTime() - start < limit) {
                    Thread.onSpinWait();
                }
            }
        } finally {
            lock.lock();
        }
        if (spin) {
            if (count != seen) {
                spinsWon++;
                failedSpins = 0;
                skippedSpins = 0;
            } else {
                spinsLost++;
                failedSpins++;
            }
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
