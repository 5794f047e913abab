package io.vsock4j.cli.perf;

import java.util.List;

/**
 * The median and the spread (smallest and largest value) of a few measurements, such as one transport's
 * Gbit/s over the timed rounds of {@code vsock perf --compare}. The median, not the mean: on a shared
 * machine a round now and then runs at a fraction of the others (docs/benchmarks.md), and one such
 * round should not move the figure. Immutable.
 */
record Stats(int count, double median, double min, double max) {
    static Stats of(List<Double> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no values");
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = sorted.length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return new Stats(n, median, sorted[0], sorted[n - 1]);
    }
}
