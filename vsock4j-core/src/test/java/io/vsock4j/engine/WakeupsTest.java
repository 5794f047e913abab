package io.vsock4j.engine;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The adaptive spin of {@link Wakeups}: waits stop spinning after a few spins that did not pay, probe
 * now and then, and spin again once a spin pays. Waits that time out are spins lost; a wake-up given
 * while the waiter has let go of the lock (in {@code beforeWait}, as a flush that delivers the answer
 * on the waiting thread does) is a spin won. Neither depends on timing.
 */
class WakeupsTest {
    private static final long WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final Runnable NOTHING = () -> { };

    /** Held by the test's thread, as the engine holds it when it waits. */
    private final Wakeups w = new Wakeups();

    @BeforeEach
    void lock() {
        w.lock.lock();
    }

    @AfterEach
    void unlock() {
        w.lock.unlock();
    }

    @Test
    void waitsStopSpinningAfterSpinsThatDidNotPayAndProbeEverySixteenth() throws InterruptedException {
        loseSpins();
        assertThat(w.spinsLost()).isEqualTo(Wakeups.FAILED_SPINS_BEFORE_PARKING);
        parkWithoutSpinning();
        assertThat(w.spinsLost()).as("no spin while spinning is off").isEqualTo(Wakeups.FAILED_SPINS_BEFORE_PARKING);
        w.awaitReadable(WAIT_NANOS, NOTHING);
        assertThat(w.spinsLost()).as("the probe spins").isEqualTo(Wakeups.FAILED_SPINS_BEFORE_PARKING + 1);
    }

    @Test
    void aSpinThatPaysTurnsSpinningBackOn() throws InterruptedException {
        loseSpins();
        parkWithoutSpinning();
        long left = w.awaitReadable(WAIT_NANOS, wakeWhileUnlocked(w::wakeReaders)); // the probe, and it pays
        assertThat(left).as("woken, not timed out").isPositive();
        assertThat(w.spinsWon()).isEqualTo(1);
        w.awaitReadable(WAIT_NANOS, NOTHING);
        assertThat(w.spinsLost()).as("the next wait spins again").isEqualTo(Wakeups.FAILED_SPINS_BEFORE_PARKING + 1);
    }

    @Test
    void aWaitWokenWithoutSpinningStillReturnsAtOnce() throws InterruptedException {
        loseSpins();
        // Would park for good if the wake-up given while the lock was let go were lost.
        long left = w.awaitWritable(Long.MAX_VALUE, wakeWhileUnlocked(w::wakeWriters));
        assertThat(left).isEqualTo(Long.MAX_VALUE);
    }

    /** Waits that time out until spinning goes off. Lock held. */
    private void loseSpins() throws InterruptedException {
        for (int i = 0; i < Wakeups.FAILED_SPINS_BEFORE_PARKING; i++) {
            w.awaitReadable(WAIT_NANOS, NOTHING);
        }
    }

    /** The waits before the next probe, which park at once. Lock held, spinning off. */
    private void parkWithoutSpinning() throws InterruptedException {
        for (int i = 1; i < Wakeups.PROBE_INTERVAL; i++) {
            w.awaitReadable(WAIT_NANOS, NOTHING);
        }
    }

    /** A beforeWait that gives the wake-up while the waiter has let go of the lock. */
    private Runnable wakeWhileUnlocked(Runnable wake) {
        return () -> {
            w.lock.lock();
            try {
                wake.run();
            } finally {
                w.lock.unlock();
            }
        };
    }
}
