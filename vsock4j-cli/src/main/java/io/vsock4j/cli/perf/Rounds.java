package io.vsock4j.cli.perf;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The schedule of {@code vsock perf --compare} and {@code --local}: warm-up rounds, then timed rounds in
 * which every transport makes one transfer, always in the same order (vsock, TCP, Unix, vsock, TCP, Unix,
 * ...). Runs on the calling thread.
 *
 * <p>Why so: one short transfer per transport measures the JIT, not the transport. The Java vsock loopback
 * runs at a fifth of its speed for its first two seconds or so, until its code is compiled (on a 2-vCPU
 * VM; JMH's first warm-up iteration shows the same); TCP and Unix sockets, mostly kernel code, warm up
 * sooner. So each transport warms up for a time, not a number of bytes: warm-up rounds go on until every
 * transport has spent {@code warmUpNanos} in transfers, and a transport that has drops out of them. The
 * first warm-up round runs them all, so the shared loops see every kind of stream before they are
 * compiled. Timed rounds interleave the transports, so a slow phase of a shared machine falls on all of
 * them rather than on one, and each round's ratio compares transports under nearly the same load.
 */
final class Rounds {
    private Rounds() {
    }

    /** One transfer: which transport, in which round (from 0), and whether it is timed. */
    record Step(String transport, int round, boolean timed) {
    }

    /** Runs one transfer over a transport; the result is its receiver's. */
    @FunctionalInterface
    interface Runner {
        Transfer.Result run(String transport) throws IOException, InterruptedException;
    }

    /** Told of each transfer as it ends, e.g. to print progress. */
    @FunctionalInterface
    interface Listener {
        void done(Step step, Transfer.Result result);
    }

    /**
     * What ran: each transport's timed Gbit/s in round order, and its warm-up transfers and their time; the
     * maps keep the transports' order.
     */
    record Outcome(Map<String, List<Double>> rates, Map<String, Integer> warmUpTransfers,
                   Map<String, Long> warmUpNanos) {
        int timedRounds() {
            return rates.values().iterator().next().size();
        }
    }

    static Outcome run(List<String> transports, long warmUpNanos, int timedRounds, Runner runner, Listener listener)
            throws IOException, InterruptedException {
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        Map<String, Integer> warmUpTransfers = new LinkedHashMap<>();
        Map<String, Long> warmed = new LinkedHashMap<>();
        for (String t : transports) {
            rates.put(t, new ArrayList<>());
            warmUpTransfers.put(t, 0);
            warmed.put(t, 0L);
        }
        int round = 0;
        for (boolean cold = warmUpNanos > 0; cold; round++) {
            cold = false;
            for (String t : transports) {
                if (warmed.get(t) < warmUpNanos) {
                    Transfer.Result r = runner.run(t);
                    listener.done(new Step(t, round, false), r);
                    warmUpTransfers.merge(t, 1, Integer::sum);
                    warmed.merge(t, r.nanos(), Long::sum);
                    cold |= warmed.get(t) < warmUpNanos;
                }
            }
        }
        for (int timed = 0; timed < timedRounds; timed++, round++) {
            for (String t : transports) {
                Transfer.Result r = runner.run(t);
                listener.done(new Step(t, round, true), r);
                rates.get(t).add(r.gbitPerSecond());
            }
        }
        return new Outcome(rates, warmUpTransfers, warmed);
    }

    /**
     * {@code numerator}'s rate over {@code denominator}'s, round by round: rounds run back to back, so each
     * ratio compares the two transports under nearly the same load.
     */
    static List<Double> ratios(List<Double> numerator, List<Double> denominator) {
        List<Double> r = new ArrayList<>();
        for (int i = 0; i < Math.min(numerator.size(), denominator.size()); i++) {
            r.add(denominator.get(i) == 0 ? 0 : numerator.get(i) / denominator.get(i));
        }
        return r;
    }
}
