package io.vsock4j.virtqueue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static io.vsock4j.virtqueue.VirtioRing.DESC_F_WRITE;
import static org.assertj.core.api.Assertions.assertThat;

/** Notification suppression both ways, with flags and with EVENT_IDX, and the re-check after enabling kicks. */
class SplitQueueNotificationTest {
    private static final int SIZE = 16;
    private final Arena arena = Arena.ofConfined();
    private final DriverSide driver = new DriverSide(arena, SIZE);
    private final DescriptorChain chain = new DescriptorChain(SIZE);

    @AfterEach
    void close() {
        driver.assertGuardsIntact();
        arena.close();
    }

    /** The driver offers one chain and the device completes it, with no interrupt question asked. */
    private void roundTrip(SplitQueue queue) {
        int head = driver.availIdx() & (SIZE - 1);
        driver.desc(head, driver.data(0), 4, DESC_F_WRITE, 0);
        driver.offer(head);
        assertThat(queue.pop(chain)).isTrue();
        queue.addUsed(head, 4);
    }

    @Test
    void withoutEventIdxTheAvailFlagDecidesInterrupts() {
        SplitQueue queue = driver.queue(false);
        assertThat(queue.needsInterrupt()).as("nothing used yet").isFalse();
        roundTrip(queue);
        assertThat(queue.needsInterrupt()).isTrue();
        assertThat(queue.needsInterrupt()).as("nothing new since").isFalse();

        driver.setAvailFlags(VirtioRing.AVAIL_F_NO_INTERRUPT);
        roundTrip(queue);
        assertThat(queue.needsInterrupt()).isFalse();
        driver.setAvailFlags(0);
        roundTrip(queue);
        assertThat(queue.needsInterrupt()).isTrue();
    }

    @Test
    void withEventIdxUsedEventDecidesInterruptsAndTheFlagIsIgnored() {
        SplitQueue queue = driver.queue(true);
        driver.setAvailFlags(VirtioRing.AVAIL_F_NO_INTERRUPT); // must be ignored under EVENT_IDX
        driver.setUsedEvent(0);
        roundTrip(queue); // used.idx 0 -> 1 writes entry 0: the one used_event names
        assertThat(queue.needsInterrupt()).isTrue();

        driver.setUsedEvent(3);
        roundTrip(queue); // 1 -> 2
        assertThat(queue.needsInterrupt()).isFalse();
        roundTrip(queue); // 2 -> 3
        assertThat(queue.needsInterrupt()).isFalse();
        roundTrip(queue); // 3 -> 4: entry 3 written
        assertThat(queue.needsInterrupt()).isTrue();
        roundTrip(queue);
        assertThat(queue.needsInterrupt()).as("used_event already passed").isFalse();

        driver.setUsedEvent(5);
        roundTrip(queue); // 5 -> 6
        roundTrip(queue); // 6 -> 7
        assertThat(queue.needsInterrupt()).as("passed within a batch").isTrue();
    }

    @Test
    void usedEventIsComparedAcrossTheWrap() {
        driver.presetUsedIdx(65534);
        SplitQueue queue = driver.queue(true);
        driver.setUsedEvent(0);
        roundTrip(queue); // 65534 -> 65535
        assertThat(queue.needsInterrupt()).isFalse();
        roundTrip(queue); // 65535 -> 0
        roundTrip(queue); // 0 -> 1: entry 0 written
        assertThat(queue.needsInterrupt()).isTrue();
    }

    @Test
    void dropsAreGivenBackAndCountForInterrupts() {
        SplitQueue queue = driver.queue(false);
        driver.desc(0, 0, 4, 0, 0); // guest-physical 0 is no guest memory here
        driver.offer(0);
        assertThat(queue.pop(chain)).isFalse();
        assertThat(queue.needsInterrupt()).as("the driver must learn its chain came back").isTrue();
    }

    @Test
    void withoutEventIdxTheUsedFlagAsksForNoKicks() {
        SplitQueue queue = driver.queue(false);
        queue.disableKicks();
        assertThat(driver.usedFlags()).isEqualTo(VirtioRing.USED_F_NO_NOTIFY);
        assertThat(driver.mustKick(false, 0, 1)).isFalse();
        queue.enableKicks();
        assertThat(driver.usedFlags()).isZero();
        assertThat(driver.mustKick(false, 0, 1)).isTrue();
    }

    @Test
    void withEventIdxAvailEventAsksForTheNextKickAndTheFlagStaysZero() {
        SplitQueue queue = driver.queue(true);
        roundTrip(queue);
        roundTrip(queue); // the device has seen avail.idx 2
        queue.disableKicks();
        assertThat(driver.usedFlags()).as("the spec wants 0 under EVENT_IDX").isZero();
        queue.enableKicks();
        assertThat(driver.availEvent()).isEqualTo(2);
        assertThat(driver.mustKick(true, 2, 3)).as("the driver writes entry 2").isTrue();
        assertThat(driver.mustKick(true, 3, 4)).as("and no kick after that").isFalse();

        driver.setAvailIdx(65530);
        SplitQueue wrapped = driver.queue(true);
        wrapped.setNextAvail(65530);
        assertThat(wrapped.hasAvailable()).isFalse();
        wrapped.enableKicks();
        assertThat(driver.availEvent()).isEqualTo(65530);
        assertThat(driver.mustKick(true, 65530, 2)).as("a batch across the wrap").isTrue();
    }

    @Test
    void theRecheckAfterEnablingKicksSeesAChainThatArrivedInBetween() {
        for (boolean eventIdx : new boolean[] {false, true}) {
            DriverSide d = new DriverSide(arena, SIZE);
            SplitQueue queue = d.queue(eventIdx);
            d.desc(0, d.data(0), 4, 0, 0);
            int old = d.availIdx();
            d.offer(0);
            assertThat(d.mustKick(eventIdx, old, d.availIdx())).as("kicks start enabled").isTrue();
            queue.disableKicks(); // the device wakes up and drains the ring
            assertThat(queue.pop(chain)).isTrue();
            queue.addUsed(0, 0);
            old = d.availIdx();
            d.offer(0); // the driver publishes while kicks are off...
            assertThat(d.mustKick(eventIdx, old, d.availIdx())).as("...and decides not to kick").isFalse();
            queue.enableKicks();
            assertThat(queue.hasAvailable()).as("so the device must look once more").isTrue();
            queue.disableKicks();
            assertThat(queue.pop(chain)).isTrue();
            queue.addUsed(0, 0);
            queue.enableKicks();
            assertThat(queue.hasAvailable()).isFalse();
            old = d.availIdx();
            d.offer(0);
            assertThat(d.mustKick(eventIdx, old, d.availIdx())).as("now the driver kicks").isTrue();
            d.assertGuardsIntact();
        }
    }
}
