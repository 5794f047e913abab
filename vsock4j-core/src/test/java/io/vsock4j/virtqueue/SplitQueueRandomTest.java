package io.vsock4j.virtqueue;

import io.vsock4j.testing.Trials;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static io.vsock4j.virtqueue.VirtioRing.DESC_F_INDIRECT;
import static io.vsock4j.virtqueue.VirtioRing.DESC_F_NEXT;
import static io.vsock4j.virtqueue.VirtioRing.DESC_F_WRITE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seeded random drivers ({@link Trials}; a failure names the seed to replay). One property builds chains
 * on purpose, valid or with one known fault, and checks each outcome exactly: the chain popped with its
 * buffers, or dropped for that fault, in ring order, and the used ring saying so. The other writes
 * garbage descriptors and rings and checks only what must hold of anything: pop never throws, every
 * chain it returns is sound, the used ring accounts for every entry, no guard byte changes.
 */
class SplitQueueRandomTest {
    private static final int[] SIZES = {1, 2, 4, 8, 16, 64};
    private static final ChainFault[] DROPS = {ChainFault.NEXT_OUT_OF_RANGE, ChainFault.CHAIN_TOO_LONG,
        ChainFault.READABLE_AFTER_WRITABLE, ChainFault.INDIRECT, ChainFault.BUFFER_OUTSIDE_MEMORY};

    /** A chain the test built: its head, its descriptors' buffers in order, and the fault it carries. */
    private record Built(int head, long[] addresses, long[] lengths, int readable, ChainFault fault) {
    }

    @Test
    void chainsBuiltWithKnownFaultsGetExactlyTheirOutcome() {
        Trials.forAll("built chains", 300, r -> {
            try (Arena arena = Arena.ofConfined()) {
                builtChains(new DriverSide(arena, Trials.oneOf(r, SIZES)), r);
            }
        });
    }

    private static void builtChains(DriverSide driver, SplittableRandom r) {
        int size = driver.size;
        int start = r.nextBoolean() ? 0 : 0xFFFF - r.nextInt(2 * size);
        driver.setAvailIdx(start);
        SplitQueue queue = driver.queue(r.nextBoolean());
        queue.setNextAvail(start);
        DescriptorChain chain = new DescriptorChain(size);
        long drops = 0;
        for (int round = 0, rounds = 1 + r.nextInt(20); round < rounds; round++) {
            List<Built> batch = buildBatch(driver, r);
            int usedBefore = driver.usedIdx();
            batch.forEach(b -> driver.offer(b.head()));
            List<int[]> expectedUsed = new ArrayList<>();
            int next = 0;
            while (queue.pop(chain)) {
                int skipped = 0;
                while (batch.get(next).fault() != null) {
                    expectedUsed.add(new int[] {batch.get(next).head(), 0});
                    skipped++;
                    next++;
                }
                assertThat(queue.droppedChains()).isEqualTo(drops + skipped);
                if (skipped > 0) {
                    assertThat(queue.lastDrop()).isEqualTo(batch.get(next - 1).fault());
                }
                drops += skipped;
                Built b = batch.get(next++);
                assertMatches(chain, b);
                ChainChecks.assertSound(driver, chain);
                int written = (int) r.nextLong(chain.writableBytes() + 1);
                queue.addUsed(b.head(), written);
                expectedUsed.add(new int[] {b.head(), written});
            }
            for (; next < batch.size(); next++) {
                assertThat(batch.get(next).fault()).as("a valid chain was not popped").isNotNull();
                expectedUsed.add(new int[] {batch.get(next).head(), 0});
                drops++;
            }
            assertThat(queue.droppedChains()).isEqualTo(drops);
            assertThat(queue.isBroken()).isFalse();
            for (int i = 0; i < expectedUsed.size(); i++) {
                assertThat(new int[] {driver.usedId(usedBefore + i), driver.usedLen(usedBefore + i)})
                        .as("used entry " + i).containsExactly(expectedUsed.get(i));
            }
            assertThat(driver.usedIdx()).isEqualTo((usedBefore + batch.size()) & 0xFFFF);
        }
        if (r.nextInt(4) == 0) {
            breakIt(driver, queue, chain, r);
        }
        driver.assertGuardsIntact();
    }

    /** Chains over distinct descriptors, at most Queue Size of them in all, some carrying one fault. */
    private static List<Built> buildBatch(DriverSide driver, SplittableRandom r) {
        int size = driver.size;
        int[] free = shuffled(size, r);
        int used = 0;
        List<Built> batch = new ArrayList<>();
        while (used < size && (batch.isEmpty() || r.nextInt(3) != 0)) {
            int length = 1 + r.nextInt(Math.min(4, size - used));
            int[] descs = Arrays.copyOfRange(free, used, used + length);
            used += length;
            batch.add(build(driver, descs, r.nextInt(3) == 0 ? DROPS[r.nextInt(DROPS.length)] : null, r));
        }
        return batch;
    }

    private static Built build(DriverSide driver, int[] descs, ChainFault fault, SplittableRandom r) {
        int n = descs.length;
        if (fault == ChainFault.READABLE_AFTER_WRITABLE && n < 2) {
            fault = ChainFault.NEXT_OUT_OF_RANGE;
        }
        long[] addresses = new long[n];
        long[] lengths = new long[n];
        int readable = fault == ChainFault.CHAIN_TOO_LONG ? (r.nextBoolean() ? n : 0) : r.nextInt(n + 1);
        int faultAt = r.nextInt(n);
        for (int i = 0; i < n; i++) {
            lengths[i] = r.nextInt(4) == 0 ? 0 : 1 + r.nextInt(300);
            addresses[i] = validAddress(driver, lengths[i], r);
            int flags = (i < readable ? 0 : DESC_F_WRITE) | (i + 1 < n ? DESC_F_NEXT : 0);
            int nextIndex = i + 1 < n ? descs[i + 1] : r.nextInt(0x10000);
            if (fault == ChainFault.READABLE_AFTER_WRITABLE && i <= 1) {
                flags = (i == 0 ? DESC_F_WRITE : 0) | (flags & DESC_F_NEXT);
            } else if (fault == ChainFault.INDIRECT && i == faultAt) {
                flags |= DESC_F_INDIRECT;
            } else if (fault == ChainFault.BUFFER_OUTSIDE_MEMORY && i == faultAt) {
                addresses[i] = outsideAddress(driver, r);
            }
            if (i == n - 1 && fault == ChainFault.NEXT_OUT_OF_RANGE) {
                flags |= DESC_F_NEXT;
                nextIndex = driver.size + r.nextInt(0x10000 - driver.size);
            } else if (i == n - 1 && fault == ChainFault.CHAIN_TOO_LONG) {
                flags |= DESC_F_NEXT;
                nextIndex = descs[r.nextInt(n)];
            }
            driver.desc(descs[i], addresses[i], (int) lengths[i], flags, nextIndex);
        }
        return new Built(descs[0], addresses, lengths, readable, fault);
    }

    private static void assertMatches(DescriptorChain chain, Built b) {
        assertThat(chain.head()).isEqualTo(b.head());
        assertThat(chain.readableCount()).isEqualTo(b.readable());
        assertThat(chain.writableCount()).isEqualTo(b.addresses().length - b.readable());
        for (int i = 0; i < b.addresses().length; i++) {
            boolean readable = i < b.readable();
            int j = readable ? i : i - b.readable();
            assertThat(readable ? chain.readableAddress(j) : chain.writableAddress(j)).isEqualTo(b.addresses()[i]);
            assertThat(readable ? chain.readableLength(j) : chain.writableLength(j)).isEqualTo(b.lengths()[i]);
        }
    }

    private static long validAddress(DriverSide driver, long length, SplittableRandom r) {
        return switch (r.nextInt(3)) {
            case 0 -> driver.data(r.nextLong(DriverSide.DATA_BYTES - length + 1));
            case 1 -> driver.gappedGpa + r.nextLong(DriverSide.SMALL_REGION_BYTES - length + 1);
            default -> driver.adjacentGpa + r.nextLong(DriverSide.SMALL_REGION_BYTES - length + 1);
        };
    }

    /** An address where no range of 0 to 300 bytes lies in one region. */
    private static long outsideAddress(DriverSide driver, SplittableRandom r) {
        long ramEnd = DriverSide.RAM_GPA + driver.ramBytes;
        return switch (r.nextInt(6)) {
            case 0 -> r.nextLong(DriverSide.RAM_GPA - 1);
            case 1 -> ramEnd + 1 + r.nextLong(DriverSide.HOLE_BYTES - 1);
            case 2 -> driver.adjacentGpa + DriverSide.SMALL_REGION_BYTES + 1 + r.nextLong(1L << 40);
            case 3 -> -1L - r.nextInt(300);
            case 4 -> r.nextLong() | Long.MIN_VALUE;
            default -> DriverSide.RAM_GPA - 1 - r.nextInt(300);
        };
    }

    /** Breaks the queue one of the two ways and checks that it stays broken and writes nothing. */
    private static void breakIt(DriverSide driver, SplitQueue queue, DescriptorChain chain, SplittableRandom r) {
        ChainFault how = r.nextBoolean() ? ChainFault.HEAD_OUT_OF_RANGE : ChainFault.AVAIL_INDEX_JUMP;
        if (how == ChainFault.HEAD_OUT_OF_RANGE) {
            driver.offer(driver.size + r.nextInt(0x10000 - driver.size));
        } else {
            driver.setAvailIdx(driver.availIdx() + driver.size + 1 + r.nextInt(0x10000 - 2 * driver.size - 1));
        }
        byte[][] before = driver.snapshot();
        assertThat(queue.pop(chain)).isFalse();
        assertThat(queue.brokenBy()).isEqualTo(how);
        queue.enableKicks();
        assertThat(queue.needsInterrupt()).isFalse();
        assertThat(Arrays.deepEquals(driver.snapshot(), before)).as("a broken queue writes nothing").isTrue();
    }

    @Test
    void garbageRingsNeverYieldAnUnsoundChain() {
        Trials.forAll("garbage rings", 300, r -> {
            try (Arena arena = Arena.ofConfined()) {
                garbage(new DriverSide(arena, Trials.oneOf(r, SIZES)), r);
            }
        });
    }

    private static void garbage(DriverSide driver, SplittableRandom r) {
        int size = driver.size;
        for (int i = 0; i < size; i++) {
            long address = r.nextInt(3) == 0 ? Trials.anyLong(r) : validAddress(driver, 0, r);
            int length = r.nextInt(3) == 0 ? Trials.anyInt(r) : r.nextInt(5000);
            int flags = r.nextInt(8) == 0 ? Trials.anyInt(r) : r.nextInt(8);
            int next = r.nextInt(4) == 0 ? r.nextInt(0x10000) : r.nextInt(size);
            driver.desc(i, address, length, flags, next);
        }
        int start = r.nextInt(0x10000);
        for (int i = 0; i < size; i++) {
            driver.putAvailEntry(start + i, r.nextInt(8) == 0 ? r.nextInt(0x10000) : r.nextInt(size));
        }
        driver.setAvailIdx(start + (r.nextInt(8) == 0 ? r.nextInt(0x10000) : r.nextInt(size + 1)));
        SplitQueue queue = driver.queue(r.nextBoolean());
        queue.setNextAvail(start);
        DescriptorChain chain = new DescriptorChain(size);
        int popped = 0;
        while (queue.pop(chain)) {
            ChainChecks.assertSound(driver, chain);
            queue.addUsed(chain.head(), (int) r.nextLong(chain.writableBytes() + 1));
            popped++;
            assertThat(popped).isLessThanOrEqualTo(size);
        }
        assertThat(popped + queue.droppedChains()).isLessThanOrEqualTo(size);
        if (!queue.isBroken()) {
            assertThat(driver.usedIdx()).isEqualTo((int) (popped + queue.droppedChains()));
        }
        driver.assertGuardsIntact();
    }

    private static int[] shuffled(int n, SplittableRandom r) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}
