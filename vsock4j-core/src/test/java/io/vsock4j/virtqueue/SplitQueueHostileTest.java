package io.vsock4j.virtqueue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

import static io.vsock4j.virtqueue.VirtioRing.DESC_F_INDIRECT;
import static io.vsock4j.virtqueue.VirtioRing.DESC_F_NEXT;
import static io.vsock4j.virtqueue.VirtioRing.DESC_F_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A hostile driver, case by case: each bad chain is either dropped (given back with length 0, the queue
 * goes on) or breaks the queue (nothing more popped, guest memory not written again), as
 * {@link ChainFault} documents; and no byte outside guest memory is touched.
 */
class SplitQueueHostileTest {
    private static final int SIZE = 8;
    private final Arena arena = Arena.ofConfined();
    private final DriverSide driver = new DriverSide(arena, SIZE);
    private final SplitQueue queue = driver.queue(false);
    private final DescriptorChain chain = new DescriptorChain(SIZE);

    @AfterEach
    void close() {
        driver.assertGuardsIntact();
        arena.close();
    }

    /** Offers {@code head}, expects it dropped for {@code fault}, then proves the queue still works. */
    private void assertDropped(int head, ChainFault fault) {
        int used = driver.usedIdx();
        long dropped = queue.droppedChains();
        driver.offer(head);
        assertThat(queue.pop(chain)).as("pop after " + fault).isFalse();
        assertThat(chain.head()).isEqualTo(-1);
        assertThat(queue.lastDrop()).isEqualTo(fault);
        assertThat(queue.droppedChains()).isEqualTo(dropped + 1);
        assertThat(queue.isBroken()).isFalse();
        assertThat(driver.usedIdx()).as("given back at once").isEqualTo((used + 1) & 0xFFFF);
        assertThat(driver.usedId(used)).isEqualTo(head);
        assertThat(driver.usedLen(used)).isZero();
        assertQueueStillWorks();
    }

    private void assertQueueStillWorks() {
        driver.desc(SIZE - 1, driver.data(0), 16, DESC_F_WRITE, 0);
        driver.offer(SIZE - 1);
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.head()).isEqualTo(SIZE - 1);
        queue.addUsed(SIZE - 1, 16);
    }

    /** Offers what {@code hostile} set up and expects the queue broken by {@code fault}, with no write after. */
    private void assertBroken(ChainFault fault, Runnable hostile) {
        driver.desc(6, driver.data(0), 16, DESC_F_WRITE, 0);
        driver.offer(6);
        assertThat(queue.pop(chain)).isTrue(); // the device holds chain 6 while the driver turns hostile
        hostile.run();
        assertThat(queue.pop(chain)).isFalse();
        assertThat(chain.head()).isEqualTo(-1);
        assertThat(queue.isBroken()).isTrue();
        assertThat(queue.brokenBy()).isEqualTo(fault);
        assertThat(fault.breaksQueue()).isTrue();
        assertThat(queue.droppedChains()).isZero();

        driver.desc(0, driver.data(0), 16, 0, 0);
        driver.offer(0);
        byte[][] before = driver.snapshot();
        assertThat(queue.pop(chain)).as("nothing more is popped").isFalse();
        assertThat(queue.hasAvailable()).isFalse();
        queue.addUsed(6, 16); // the device may still finish what it holds; nothing is written
        queue.enableKicks();
        queue.disableKicks();
        assertThat(queue.needsInterrupt()).isFalse();
        assertThat(Arrays.deepEquals(driver.snapshot(), before)).as("guest memory unchanged").isTrue();
        assertThat(driver.usedIdx()).isZero();
    }

    @Test
    void availIdxJumpingPastTheQueueSizeBreaksTheQueue() {
        assertBroken(ChainFault.AVAIL_INDEX_JUMP, () -> driver.setAvailIdx(driver.availIdx() + SIZE + 1));
    }

    @Test
    void availIdxGoingBackwardsBreaksTheQueue() {
        assertBroken(ChainFault.AVAIL_INDEX_JUMP, () -> driver.setAvailIdx(driver.availIdx() - 1));
    }

    @Test
    void availIdxExactlyAQueueAheadIsFine() {
        for (int i = 0; i < SIZE; i++) {
            driver.desc(i, driver.data(i), 1, 0, 0);
            driver.offer(i);
        }
        for (int i = 0; i < SIZE; i++) {
            assertThat(queue.pop(chain)).isTrue();
            queue.addUsed(i, 0);
        }
        assertThat(queue.isBroken()).isFalse();
    }

    @Test
    void aHeadOutsideTheTableBreaksTheQueue() {
        assertBroken(ChainFault.HEAD_OUT_OF_RANGE, () -> driver.offer(SIZE));
    }

    @Test
    void aHeadOf65535BreaksTheQueue() {
        assertBroken(ChainFault.HEAD_OUT_OF_RANGE, () -> driver.offer(0xFFFF));
    }

    @Test
    void aNextOutsideTheTableIsDropped() {
        driver.desc(1, driver.data(0), 8, DESC_F_NEXT, 2);
        driver.desc(2, driver.data(8), 8, DESC_F_NEXT, SIZE);
        assertDropped(1, ChainFault.NEXT_OUT_OF_RANGE);
        driver.desc(2, driver.data(8), 8, DESC_F_NEXT, 0xFFFF);
        assertDropped(1, ChainFault.NEXT_OUT_OF_RANGE);
    }

    @Test
    void aLoopIsDropped() {
        driver.desc(0, driver.data(0), 8, DESC_F_NEXT, 1);
        driver.desc(1, driver.data(8), 8, DESC_F_NEXT, 2);
        driver.desc(2, driver.data(16), 8, DESC_F_NEXT, 0);
        assertDropped(0, ChainFault.CHAIN_TOO_LONG);
        driver.desc(3, driver.data(0), 8, DESC_F_NEXT, 3);
        assertDropped(3, ChainFault.CHAIN_TOO_LONG);
    }

    @Test
    void aReadableBufferAfterAWritableOneIsDropped() {
        driver.desc(0, driver.data(0), 8, DESC_F_NEXT | DESC_F_WRITE, 1);
        driver.desc(1, driver.data(8), 8, 0, 0);
        assertDropped(0, ChainFault.READABLE_AFTER_WRITABLE);
    }

    @Test
    void indirectDescriptorsAreDropped() {
        driver.desc(0, driver.data(0), 32, DESC_F_INDIRECT, 0);
        assertDropped(0, ChainFault.INDIRECT);
        driver.desc(0, driver.data(0), 8, DESC_F_NEXT, 1);
        driver.desc(1, driver.data(0), 32, DESC_F_INDIRECT | DESC_F_WRITE, 0);
        assertDropped(0, ChainFault.INDIRECT);
    }

    @Test
    void buffersOutsideGuestMemoryAreDropped() {
        long ramEnd = DriverSide.RAM_GPA + driver.ramBytes;
        long[][] outside = {
            {0, 1}, // guest-physical 0: no region there
            {DriverSide.RAM_GPA - 1, 2}, // starts below the first region
            {ramEnd - 4, 8}, // runs off the first region's end into the hole
            {ramEnd, 1}, // in the hole
            {driver.adjacentGpa - 4, 8}, // across two adjacent regions
            {driver.adjacentGpa + DriverSide.SMALL_REGION_BYTES + 1, 0}, // empty, but past the last region's end
            {-8L, 16}, // wraps past 2^64
            {DriverSide.RAM_GPA, 0xFFFF_FFFFL}, // longer than the region
            {Long.MIN_VALUE + DriverSide.RAM_GPA, 8}, // the right offset with the top bit set
            {DriverSide.RAM_GPA - DriverSide.GUARD_BYTES, 8}, // the guard bytes just below
            {ramEnd + 1, 8}, // the guard bytes just above
        };
        for (long[] range : outside) {
            driver.desc(4, driver.data(0), 8, DESC_F_NEXT, 5);
            driver.desc(5, range[0], (int) range[1], DESC_F_WRITE, 0);
            assertDropped(4, ChainFault.BUFFER_OUTSIDE_MEMORY);
            driver.desc(4, range[0], (int) range[1], 0, 0);
            assertDropped(4, ChainFault.BUFFER_OUTSIDE_MEMORY);
        }
    }

    @Test
    void aHeadOfferedAgainWhileTheDeviceHoldsItIsDropped() {
        driver.desc(2, driver.data(0), 64, DESC_F_WRITE, 0);
        driver.offer(2);
        assertThat(queue.pop(chain)).isTrue();
        assertDropped(2, ChainFault.HEAD_IN_FLIGHT);
        queue.addUsed(2, 64); // the device's own bookkeeping is intact
        assertThat(driver.usedId(driver.usedIdx() - 1)).isEqualTo(2);
        assertThat(driver.usedLen(driver.usedIdx() - 1)).isEqualTo(64);
    }

    @Test
    void aChainOf4GiBOrMoreIsDropped(@TempDir Path dir) throws IOException {
        // Two 2 GiB buffers in one 2 GiB region: a sparse file, so no page is ever touched.
        long big = 1L << 31;
        try (FileChannel file = FileChannel.open(dir.resolve("ram"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.SPARSE);
                Arena mapped = Arena.ofConfined()) {
            file.write(java.nio.ByteBuffer.allocate(1), big - 1);
            MemorySegment huge = file.map(FileChannel.MapMode.READ_WRITE, 0, big, mapped);
            long bigGpa = 0x10_0000_0000L;
            GuestMemory memory = new GuestMemory(List.of(driver.memory.regions().getFirst(),
                    new GuestMemory.Region(bigGpa, big, 0x1000_0000_0000L, huge)));
            SplitQueue q = new SplitQueue(memory, SIZE, driver.descGpa, driver.availGpa, driver.usedGpa, false);
            driver.desc(0, bigGpa, (int) big, DESC_F_NEXT, 1);
            driver.desc(1, bigGpa, (int) (big - 1), DESC_F_NEXT | DESC_F_WRITE, 2);
            driver.desc(2, bigGpa, 1, DESC_F_WRITE, 0);
            driver.offer(0);
            assertThat(q.pop(chain)).isFalse();
            assertThat(q.lastDrop()).isEqualTo(ChainFault.LENGTH_OVERFLOW);

            driver.desc(2, bigGpa, 0, DESC_F_WRITE, 0); // exactly 2^32 - 1 bytes: fine
            driver.offer(0);
            assertThat(q.pop(chain)).isTrue();
            assertThat(chain.readableBytes() + chain.writableBytes()).isEqualTo(0xFFFF_FFFFL);
            q.addUsed(0, (int) (big - 1));
            assertThat(driver.usedLen(1)).isEqualTo((int) (big - 1));
        }
    }

    @Test
    void theDevicesOwnMistakesAreExceptions() {
        assertThatThrownBy(() -> queue.addUsed(3, 0)).as("never popped").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> queue.addUsed(SIZE, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> queue.addUsed(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        driver.desc(3, driver.data(0), 10, DESC_F_WRITE, 0);
        driver.offer(3);
        assertThat(queue.pop(chain)).isTrue();
        assertThatThrownBy(() -> queue.addUsed(3, 11)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("10 writable bytes");
        assertThatThrownBy(() -> queue.addUsed(3, -1)).as("unsigned: 2^32 - 1").isInstanceOf(IllegalArgumentException.class);
        queue.addUsed(3, 10);
        assertThatThrownBy(() -> queue.addUsed(3, 0)).as("given back twice").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> queue.pop(new DescriptorChain(SIZE / 2))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> queue.setNextAvail(65536)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> queue.setNextAvail(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void ringsMustBeAlignedAndInGuestMemory() {
        GuestMemory m = driver.memory;
        for (int bad : new int[] {0, 3, 6, 65536, -1, 32768 * 2}) {
            assertThatThrownBy(() -> new SplitQueue(m, bad, driver.descGpa, driver.availGpa, driver.usedGpa, false))
                    .as("size " + bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> new SplitQueue(m, SIZE, driver.descGpa + 8, driver.availGpa, driver.usedGpa, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16-byte");
        assertThatThrownBy(() -> new SplitQueue(m, SIZE, driver.descGpa, driver.availGpa + 1, driver.usedGpa, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2-byte");
        assertThatThrownBy(() -> new SplitQueue(m, SIZE, driver.descGpa, driver.availGpa, driver.usedGpa + 2, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4-byte");
        long ramEnd = DriverSide.RAM_GPA + driver.ramBytes;
        assertThatThrownBy(() -> new SplitQueue(m, SIZE, ramEnd - 16, driver.availGpa, driver.usedGpa, false))
                .isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> new SplitQueue(m, SIZE, driver.descGpa, driver.adjacentGpa - 4, driver.usedGpa, false))
                .as("across adjacent regions").isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> new SplitQueue(m, SIZE, driver.descGpa, driver.availGpa, -8L, false))
                .isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> new SplitQueue(m, VirtioRing.MAX_QUEUE_SIZE, driver.descGpa, driver.availGpa,
                driver.usedGpa, false)).as("a table larger than the region").isInstanceOf(GuestMemoryException.class);
    }
}
