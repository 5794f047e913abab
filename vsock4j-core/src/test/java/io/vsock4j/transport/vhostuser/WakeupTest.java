package io.vsock4j.transport.vhostuser;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ring thread's wake-up never strands work: two threads queue items and signal as fast as they can,
 * a third polls the eventfd, rearms and takes what is queued, as VsockRings does. With the rearm's steps
 * in the wrong order (clear, then read) a signal landing in between left the flag set and the poller
 * asleep for good: the JVM's packets to a guest stalled across the vhost-user device
 * (AcrossConnectProbe / ConformanceTest "across the device", case 40 on 6.12).
 */
class WakeupTest {
    private static final int ITEMS_PER_PRODUCER = 500_000;

    @RepeatedTest(5) // the window is a few hundred nanoseconds: one round with the wrong order failed one run in three here
    @Timeout(60)
    void everyQueuedItemIsTakenWithoutAnyOtherWakeUp() throws Exception {
        try (Wakeup wakeup = new Wakeup()) {
            ConcurrentLinkedQueue<Integer> queue = new ConcurrentLinkedQueue<>();
            AtomicInteger taken = new AtomicInteger();
            Thread poller = Thread.ofPlatform().daemon().start(() -> {
                int[] fds = {wakeup.fd()};
                short[] events = {UnixAbi.POLLIN};
                short[] revents = new short[1];
                try {
                    while (taken.get() < 2 * ITEMS_PER_PRODUCER) {
                        UnixNative.poll(fds, events, revents, -1);
                        wakeup.rearm();
                        while (queue.poll() != null) {
                            taken.incrementAndGet();
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Runnable produce = () -> {
                try {
                    for (int i = 0; i < ITEMS_PER_PRODUCER; i++) {
                        queue.add(i);
                        wakeup.signal();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
            Thread a = Thread.ofPlatform().start(produce);
            Thread b = Thread.ofPlatform().start(produce);
            a.join();
            b.join();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (taken.get() < 2 * ITEMS_PER_PRODUCER && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(taken.get()).as("items taken; the rest wait for a wake-up that never comes").isEqualTo(2 * ITEMS_PER_PRODUCER);
            poller.join(1000);
        }
    }
}
