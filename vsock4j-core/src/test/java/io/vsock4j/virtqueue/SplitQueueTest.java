package io.vsock4j.virtqueue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;

import static io.vsock4j.virtqueue.VirtioRing.DESC_F_NEXT;
import static io.vsock4j.virtqueue.VirtioRing.DESC_F_WRITE;
import static org.assertj.core.api.Assertions.assertThat;

/** The split queue with a well-behaved driver: chains, used entries, index wrap-around, queue sizes. */
class SplitQueueTest {
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void oneReadableDescriptorIsPoppedAndGivenBack() {
        DriverSide driver = new DriverSide(arena, 8);
        SplitQueue queue = driver.queue(false);
        DescriptorChain chain = new DescriptorChain(8);
        assertThat(queue.pop(chain)).as("empty ring").isFalse();

        driver.ramAt(driver.data(0), 5).copyFrom(java.lang.foreign.MemorySegment.ofArray("hello".getBytes()));
        driver.desc(3, driver.data(0), 5, 0, 0);
        driver.offer(3);

        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.head()).isEqualTo(3);
        assertThat(chain.readableCount()).isEqualTo(1);
        assertThat(chain.writableCount()).isZero();
        assertThat(chain.readableAddress(0)).isEqualTo(driver.data(0));
        assertThat(chain.readableLength(0)).isEqualTo(5);
        assertThat(chain.readableBytes()).isEqualTo(5);
        assertThat(new String(chain.readable(0).toArray(ValueLayout.JAVA_BYTE))).isEqualTo("hello");
        assertThat(queue.pop(chain)).isFalse();
        assertThat(chain.head()).as("a failed pop leaves nothing").isEqualTo(-1);

        queue.addUsed(3, 0);
        assertThat(driver.usedIdx()).isEqualTo(1);
        assertThat(driver.usedId(0)).isEqualTo(3);
        assertThat(driver.usedLen(0)).isZero();
        assertThat(queue.nextAvail()).isEqualTo(1);
        assertThat(queue.nextUsed()).isEqualTo(1);
        driver.assertGuardsIntact();
    }

    @Test
    void readableThenWritableDescriptorsInChainOrder() {
        DriverSide driver = new DriverSide(arena, 8);
        SplitQueue queue = driver.queue(false);
        DescriptorChain chain = new DescriptorChain(8);
        // head 5 -> 0 -> 7 -> 2: two readable (one in the gapped region), two writable (one in the adjacent one).
        driver.desc(5, driver.data(0), 44, DESC_F_NEXT, 0);
        driver.desc(0, driver.gappedGpa + 100, 10, DESC_F_NEXT, 7);
        driver.desc(7, driver.data(4096), 100, DESC_F_NEXT | DESC_F_WRITE, 2);
        driver.desc(2, driver.adjacentGpa, 4096, DESC_F_WRITE, 0);
        driver.offer(5);

        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.head()).isEqualTo(5);
        assertThat(chain.readableCount()).isEqualTo(2);
        assertThat(chain.writableCount()).isEqualTo(2);
        assertThat(chain.readableAddress(1)).isEqualTo(driver.gappedGpa + 100);
        assertThat(chain.writableAddress(0)).isEqualTo(driver.data(4096));
        assertThat(chain.writableLength(1)).isEqualTo(4096);
        assertThat(chain.readableBytes()).isEqualTo(54);
        assertThat(chain.writableBytes()).isEqualTo(4196);

        chain.writable(0).fill((byte) 7);
        queue.addUsed(chain.head(), 100);
        assertThat(driver.ramAt(driver.data(4096), 100).toArray(ValueLayout.JAVA_BYTE)).containsOnly(7);
        assertThat(driver.usedId(0)).isEqualTo(5);
        assertThat(driver.usedLen(0)).isEqualTo(100);
        driver.assertGuardsIntact();
    }

    @Test
    void chainsCompleteOutOfOrder() {
        DriverSide driver = new DriverSide(arena, 4);
        SplitQueue queue = driver.queue(false);
        DescriptorChain chain = new DescriptorChain(4);
        for (int i = 0; i < 4; i++) {
            driver.desc(i, driver.data(256L * i), 256, DESC_F_WRITE, 0);
            driver.offer(i);
        }
        int[] heads = new int[4];
        for (int i = 0; i < 4; i++) {
            assertThat(queue.pop(chain)).isTrue();
            heads[i] = chain.head();
        }
        assertThat(heads).containsExactly(0, 1, 2, 3);
        assertThat(queue.pop(chain)).isFalse();
        queue.addUsed(2, 1);
        queue.addUsed(0, 2);
        queue.addUsed(3, 3);
        queue.addUsed(1, 4);
        assertThat(driver.usedIdx()).isEqualTo(4);
        assertThat(new int[] {driver.usedId(0), driver.usedId(1), driver.usedId(2), driver.usedId(3)})
                .containsExactly(2, 0, 3, 1);
        assertThat(new int[] {driver.usedLen(0), driver.usedLen(1), driver.usedLen(2), driver.usedLen(3)})
                .containsExactly(1, 2, 3, 4);
    }

    @Test
    void indexesWrapPast65535() {
        DriverSide driver = new DriverSide(arena, 8);
        driver.setAvailIdx(65530);
        driver.presetUsedIdx(65532);
        SplitQueue queue = driver.queue(true);
        queue.setNextAvail(65530);
        assertThat(queue.nextUsed()).as("read from the ring").isEqualTo(65532);
        DescriptorChain chain = new DescriptorChain(8);
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 5; i++) {
                driver.desc(i, driver.data(i), 1, DESC_F_WRITE, 0);
                driver.offer(i);
            }
            for (int i = 0; i < 5; i++) {
                assertThat(queue.pop(chain)).isTrue();
                assertThat(chain.head()).isEqualTo(i);
                queue.addUsed(i, 1);
            }
            assertThat(queue.pop(chain)).isFalse();
        }
        assertThat(queue.nextAvail()).isEqualTo((65530 + 25) & 0xFFFF);
        assertThat(driver.usedIdx()).isEqualTo((65532 + 25) & 0xFFFF);
        assertThat(driver.usedId(65532 + 24)).isEqualTo(4);
        assertThat(queue.droppedChains()).isZero();
    }

    @Test
    void aQueueOfOne() {
        DriverSide driver = new DriverSide(arena, 1);
        SplitQueue queue = driver.queue(false);
        DescriptorChain chain = new DescriptorChain(1);
        for (int i = 0; i < 70_000; i++) {
            if (i % 10_000 == 0) {
                driver.desc(0, driver.data(i % 64), 8, i % 20_000 == 0 ? 0 : DESC_F_WRITE, 0);
            }
            driver.offer(0);
            assertThat(queue.pop(chain)).isTrue();
            queue.addUsed(0, 0);
        }
        assertThat(driver.usedIdx()).isEqualTo(70_000 & 0xFFFF);
        driver.desc(0, driver.data(0), 8, DESC_F_NEXT, 0);
        driver.offer(0);
        assertThat(queue.pop(chain)).as("a chain of one that names itself next loops").isFalse();
        assertThat(queue.lastDrop()).isEqualTo(ChainFault.CHAIN_TOO_LONG);
    }

    @Test
    void aQueueOf32768TakesAFullRingAndTheLongestChain() {
        int size = VirtioRing.MAX_QUEUE_SIZE;
        DriverSide driver = new DriverSide(arena, size);
        SplitQueue queue = driver.queue(true);
        DescriptorChain chain = new DescriptorChain(size);
        for (int i = 0; i < size; i++) {
            driver.desc(i, driver.data(i & 1023), 1, 0, 0);
            driver.offer(size - 1 - i);
        }
        for (int i = 0; i < size; i++) {
            assertThat(queue.pop(chain)).isTrue();
            assertThat(chain.head()).isEqualTo(size - 1 - i);
            queue.addUsed(chain.head(), 0);
        }
        assertThat(queue.pop(chain)).isFalse();

        for (int i = 0; i < size; i++) { // every descriptor, in one chain, readable then writable
            driver.desc(i, driver.data(i & 1023), 2, (i == size - 1 ? 0 : DESC_F_NEXT) | (i >= size / 2 ? DESC_F_WRITE : 0),
                    i + 1);
        }
        driver.offer(0);
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.readableCount()).isEqualTo(size / 2);
        assertThat(chain.writableCount()).isEqualTo(size / 2);
        assertThat(chain.writableBytes()).isEqualTo(size);
        queue.addUsed(0, size);
        assertThat(driver.usedLen(size)).isEqualTo(size);
        driver.assertGuardsIntact();
    }

    @Test
    void zeroLengthBuffersAreBuffers() {
        DriverSide driver = new DriverSide(arena, 2);
        SplitQueue queue = driver.queue(false);
        DescriptorChain chain = new DescriptorChain(2);
        driver.desc(0, driver.gappedGpa + DriverSide.SMALL_REGION_BYTES, 0, DESC_F_NEXT, 1); // at the region's very end
        driver.desc(1, driver.data(0), 0, DESC_F_WRITE, 0);
        driver.offer(0);
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.readableBytes() + chain.writableBytes()).isZero();
        assertThat(chain.readable(0).byteSize()).isZero();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 256})
    void aQueueOfEverySizeMovesManyChains(int size) {
        DriverSide driver = new DriverSide(arena, size);
        SplitQueue queue = driver.queue(size % 2 == 0);
        DescriptorChain chain = new DescriptorChain(size);
        int moved = 0;
        while (moved < 3 * 65536 / size + 7) {
            int batch = 1 + moved % size;
            for (int i = 0; i < batch; i++) {
                driver.desc(i, driver.data(i), 1, DESC_F_WRITE, 0);
                driver.offer(i);
            }
            for (int i = 0; i < batch; i++) {
                assertThat(queue.pop(chain)).isTrue();
                queue.addUsed(chain.head(), 1);
            }
            moved += batch;
        }
        assertThat(driver.usedIdx()).isEqualTo(driver.availIdx());
        assertThat(queue.pop(chain)).isFalse();
    }
}
