package io.vsock4j.virtqueue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.lang.foreign.Arena;
import java.util.ArrayDeque;

/**
 * Fuzzes the ring walker: the input becomes a descriptor table, an available ring, an avail.idx and a
 * starting index, in guest memory of three regions fenced by guard bytes ({@link DriverSide}); the
 * device pops until the ring is empty or broken, gives chains back with random lengths, and every chain
 * it got must be sound ({@link ChainChecks}). {@code pop} may drop chains or break the queue, never
 * throw, never touch a guard byte, and every used entry it published must be accounted for.
 *
 * <p>{@code mvn test} replays the seed corpus under
 * {@code src/test/resources/io/vsock4j/virtqueue/SplitQueueFuzzTestInputs/pop/} (Jazzer's regression
 * mode: some 20 s, nearly all of it Jazzer instrumenting the JDK as it starts). To fuzz for real, with
 * the growing corpus under {@code vsock4j-core/.cifuzz-corpus/} and a crash written next to the seeds:
 *
 * <pre>
 * . scripts/env.sh &amp;&amp; vsock4j_find_java
 * JAZZER_FUZZ=1 mvn -B -ntp -pl vsock4j-core test -Dtest=SplitQueueFuzzTest -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * Jazzer 0.24.0 cannot instrument Java 25 class files (its ASM reads class files up to Java 23), so
 * that run fuzzes without coverage feedback: libFuzzer warns "no interesting inputs were found" and
 * only mutates at random. {@code scripts/fuzz/fuzz.sh virtqueue [SECONDS]} compiles this package and
 * its test helpers for Java 23 and runs Jazzer's own driver on {@link #fuzzerTestOneInput}, with
 * coverage. The DriverSide of each size is made once per JVM and reset per input, which keeps a run at
 * thousands of inputs a second.
 */
public class SplitQueueFuzzTest {
    private static final int[] SIZES = {1, 2, 4, 8, 16};
    /** One driver per size, reset for each input: memory that lives as long as the fuzzing JVM. */
    private static final DriverSide[] DRIVERS = new DriverSide[SIZES.length];

    static {
        for (int i = 0; i < SIZES.length; i++) {
            DRIVERS[i] = new DriverSide(Arena.global(), SIZES[i]);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void pop(FuzzedDataProvider data) {
        fuzzerTestOneInput(data);
    }

    /** One input; also the entry point of Jazzer's standalone driver. */
    public static void fuzzerTestOneInput(FuzzedDataProvider data) {
        DriverSide driver = DRIVERS[data.consumeInt(0, SIZES.length - 1)];
        driver.reset();
        run(driver, data);
    }

    private static void run(DriverSide driver, FuzzedDataProvider data) {
        int size = driver.size;
        boolean eventIdx = data.consumeBoolean();
        int start = data.consumeBoolean() ? data.consumeInt(0, 0xFFFF) : 0;
        for (int i = 0; i < size; i++) {
            driver.desc(i, address(driver, data), length(data), data.consumeInt(0, 15) == 0 ? data.consumeInt()
                    : data.consumeInt(0, 7), data.consumeBoolean() ? data.consumeInt(0, size) : data.consumeInt(0, 0xFFFF));
        }
        for (int i = 0; i < size; i++) {
            driver.putAvailEntry(start + i, data.consumeBoolean() ? data.consumeInt(0, size) : data.consumeInt(0, 0xFFFF));
        }
        int offered = data.consumeBoolean() ? data.consumeInt(0, size) : data.consumeInt(0, 0xFFFF);
        driver.setAvailIdx(start + offered);
        SplitQueue queue = driver.queue(eventIdx);
        queue.setNextAvail(start);

        DescriptorChain chain = new DescriptorChain(size);
        ArrayDeque<long[]> held = new ArrayDeque<>();
        int popped = 0;
        int given = 0;
        while (queue.pop(chain)) {
            ChainChecks.assertSound(driver, chain);
            popped++;
            held.add(new long[] {chain.head(), chain.writableBytes()});
            while (!held.isEmpty() && data.consumeBoolean()) {
                giveBack(queue, held.poll(), data);
                given++;
            }
            if (popped > size) {
                throw new AssertionError("popped " + popped + " chains from a ring of " + size);
            }
        }
        while (!held.isEmpty()) {
            giveBack(queue, held.poll(), data);
            given++;
        }
        driver.assertGuardsIntact();
        long drops = queue.droppedChains();
        if (popped + drops > size) {
            throw new AssertionError(popped + " popped and " + drops + " dropped from a ring of " + size);
        }
        if (queue.isBroken() ? !queue.brokenBy().breaksQueue() : queue.brokenBy() != null) {
            throw new AssertionError("broken by " + queue.brokenBy());
        }
        if (queue.lastDrop() != null && queue.lastDrop().breaksQueue()) {
            throw new AssertionError("dropped for " + queue.lastDrop());
        }
        int expectedUsed = queue.isBroken() ? -1 : (int) ((drops + given) & 0xFFFF);
        if (expectedUsed >= 0 && driver.usedIdx() != expectedUsed) {
            throw new AssertionError("used.idx " + driver.usedIdx() + " after " + drops + " drops and " + given + " given");
        }
    }

    private static void giveBack(SplitQueue queue, long[] held, FuzzedDataProvider data) {
        queue.addUsed((int) held[0], (int) data.consumeLong(0, held[1]));
    }

    private static long address(DriverSide driver, FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 4)) {
            case 0 -> driver.data(data.consumeLong(0, DriverSide.DATA_BYTES));
            case 1 -> driver.gappedGpa + data.consumeLong(-16, DriverSide.SMALL_REGION_BYTES + 16);
            case 2 -> driver.adjacentGpa + data.consumeLong(-16, DriverSide.SMALL_REGION_BYTES + 16);
            case 3 -> DriverSide.RAM_GPA + driver.ramBytes + data.consumeLong(-16, 16);
            default -> data.consumeLong();
        };
    }

    private static int length(FuzzedDataProvider data) {
        return data.consumeBoolean() ? data.consumeInt(0, 4200) : data.consumeInt();
    }
}
