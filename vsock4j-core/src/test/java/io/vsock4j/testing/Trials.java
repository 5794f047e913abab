package io.vsock4j.testing;

import java.util.SplittableRandom;

/**
 * Property tests as plain JUnit: a property runs a fixed number of tries, each drawing its input from
 * its own {@link SplittableRandom}, all split from one seed. The seed is fixed, so a run is
 * reproducible; {@code -Dvsock4j.test.seed=N} picks another (to explore, or to replay a failure), and
 * every failure names the seed, the try and the property. Not thread-safe; one test thread.
 */
public final class Trials {
    /** The system property that overrides {@link #DEFAULT_SEED}. */
    public static final String SEED_PROPERTY = "vsock4j.test.seed";
    /** The seed every property uses unless {@link #SEED_PROPERTY} says otherwise. */
    public static final long DEFAULT_SEED = 0x76_34_6a_73_65_65_64L;
    private static final int[] INT_EDGES = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE};
    private static final long[] LONG_EDGES = {0, 1, -1, Integer.MAX_VALUE, 0xFFFF_FFFFL, 1L << 32,
        Long.MAX_VALUE, Long.MIN_VALUE};

    /** One try of a property: draw the input from {@code random}, check it, throw on a violation. */
    @FunctionalInterface
    public interface Try {
        void run(SplittableRandom random) throws Exception;
    }

    private Trials() {
    }

    /** The seed of this run: {@link #SEED_PROPERTY} when set (decimal or 0x hex), else {@link #DEFAULT_SEED}. */
    public static long seed() {
        String s = System.getProperty(SEED_PROPERTY);
        if (s == null || s.isBlank()) {
            return DEFAULT_SEED;
        }
        s = s.trim();
        return s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
    }

    /**
     * Runs {@code property} {@code tries} times. A failing try ends the run with an AssertionError whose
     * message starts with the property's name, the try and the seed, and whose cause is the failure.
     */
    public static void forAll(String property, int tries, Try check) {
        long seed = seed();
        SplittableRandom all = new SplittableRandom(seed);
        for (int i = 0; i < tries; i++) {
            SplittableRandom one = all.split();
            try {
                check.run(one);
            } catch (Throwable t) {
                throw new AssertionError(property + " failed on try " + (i + 1) + " of " + tries + " with seed "
                        + seed + " (replay: -D" + SEED_PROPERTY + "=" + seed + "): " + t.getMessage(), t);
            }
        }
    }

    /** An int that is an edge (0, ±1, the extremes) a quarter of the time, else uniform over all ints. */
    public static int anyInt(SplittableRandom r) {
        return r.nextInt(4) == 0 ? INT_EDGES[r.nextInt(INT_EDGES.length)] : r.nextInt();
    }

    /** A long that is an edge (0, ±1, the int and long extremes) a quarter of the time, else uniform. */
    public static long anyLong(SplittableRandom r) {
        return r.nextInt(4) == 0 ? LONG_EDGES[r.nextInt(LONG_EDGES.length)] : r.nextLong();
    }

    /** One of {@code values}, uniformly. */
    public static int oneOf(SplittableRandom r, int... values) {
        return values[r.nextInt(values.length)];
    }
}
