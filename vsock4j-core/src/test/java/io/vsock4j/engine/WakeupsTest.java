package io.vsock4j.engine;

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

    @Test
    void waitsStopSpinningAfterSpinsThatDidNotPayAndProbeEverySixteenth() throws InterruptedException {
        Wakeups w = new Wakeups();
        w.lock.lock();
        try {
            for (int i = 0; i < Wakeups.FAILED_SPINS_BEFORE_PARKING; i++) {
                w.awaitReadable(WAIT_NANOS, NOTHING);
            }
            assertThat(w.spinsLost()).isEqualTo(Wakeups.FAILED_SPINS_BEFORE_PARKING);
            for (int i = 1; i < Wakeups.PROBE_INTERVAL; i++) {
                w.awaitReadable(WAIT_NANOS, NOTHING);
            }
            assertThat(w.spinsLost()).as("no spin while spinning is off").isEqualTo(Wakeups.FAILED_SPINS_BEFORE_PARKING);
            w.awaitReadable(WAIT_NANOS, NOTHING);
            assertThat(w.spinsLost()).as("the probe spins").isEqualTo(Wakeups.FAILED_SPINS_BEFORE_PARKING + 1);
        } finally {
            w.lock.unlock();
        }
    }

    @Test
    void aSpinThatPaysTurnsSpinningBackOn() throws InterruptedException {
        Wakeups w = new Wakeups();
        Runnable wakeWhileUnlocked = () -> {
            w.lock.lock();
            try {
                w.wakeReaders();
            } finally {
                w.lock.unlock();
            }
        };
        w.lock.lock();
        try {
            for (int i = 0; i < Wakeups.FAILED_SPINS_BEFORE_PARKING; i++) {
                w.awaitReadable(WAIT_NANOS, NOTHING);
            }
            for (int i = 1; i < Wakeups.PROBE_INTERVAL; i++) {
                w.awaitReadable(WAIT_NANOS, NOTHING); // spinning is off: these park
            }
            long left = w.awaitReadable(WAIT_NANOS, wakeWhileUnlocked); // the probe, and it pays
            assertThat(left).as("woken, not timed out").isPositive();
            assertThat(w.spinsWon()).isEqualTo(1);
            w.awaitReadable(WAIT_NANOS, NOTHING);
            assertThat(w.spinsLost()).as("the next wait spins again").isEqualTo(Wakeups.FAILED_SPINS_BEFORE_PARKING + 1);
        } finally {
            w.lock.unlock();
        }
    }

    @Test
    void aWaitWokenWithoutSpinningStillReturnsAtOnce() throws InterruptedException {
        Wakeups w = new Wakeups();
        Runnable wakeWhileUnlocked = () -> {
            w.lock.lock();
            try {
                w.wakeWriters();
            } finally {
                w.lock.unlock();
            }
        };
        w.lock.lock();
        try {
            for (int i = 0; i < Wakeups.FAILED_SPINS_BEFORE_PARKING; i++) {
                w.awaitWritable(WAIT_NANOS, NOTHING);
            }
            long left = w.awaitWritable(Long.MAX_VALUE, wakeWhileUnlocked); // would park for good if the wake-up were lost
            assertThat(left).isEqualTo(Long.MAX_VALUE);
        } finally {
            w.lock.unlock();
        }
    }
}
