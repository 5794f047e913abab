package io.vsock4j.cli.perf;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RoundsTest {
    private static final long SECOND = 1_000_000_000L;

    /** A transport that always takes {@code nanos} for 1 GB: its rate is fixed, so the schedule alone is tested. */
    private static Rounds.Runner fixed(Map<String, Long> nanos) {
        return t -> new Transfer.Result(1_000_000_000L, nanos.get(t), 0, 0, 0);
    }

    private static List<String> steps(List<String> transports, long warmUpNanos, int timed, Map<String, Long> nanos)
            throws Exception {
        List<String> steps = new ArrayList<>();
        Rounds.run(transports, warmUpNanos, timed, fixed(nanos),
                (step, r) -> steps.add((step.timed() ? "T" : "w") + (step.round() + 1) + " " + step.transport()));
        return steps;
    }

    @Test
    void warmUpRunsEveryTransportFirstThenOnlyThoseStillShortOfTheirTimeThenTimedRoundsInterleaved() throws Exception {
        List<String> steps = steps(List.of("vsock", "tcp", "unix"), 3 * SECOND, 2,
                Map.of("vsock", SECOND, "tcp", 3 * SECOND, "unix", 2 * SECOND));
        assertThat(steps).containsExactly(
                "w1 vsock", "w1 tcp", "w1 unix",
                "w2 vsock", "w2 unix",
                "w3 vsock",
                "T4 vsock", "T4 tcp", "T4 unix",
                "T5 vsock", "T5 tcp", "T5 unix");
    }

    @Test
    void noWarmUpStartsWithTheTimedRounds() throws Exception {
        List<String> steps = steps(List.of("vsock", "tcp"), 0, 3, Map.of("vsock", SECOND, "tcp", SECOND));
        assertThat(steps).containsExactly("T1 vsock", "T1 tcp", "T2 vsock", "T2 tcp", "T3 vsock", "T3 tcp");
    }

    @Test
    void theOutcomeKeepsOnlyTimedRatesAndCountsTheWarmUp() throws Exception {
        long[] vsockNanos = {10 * SECOND, SECOND, 2 * SECOND, 4 * SECOND}; // a slow first transfer, then 8, 4, 2 Gbit/s
        int[] call = {0};
        Rounds.Outcome o = Rounds.run(List.of("vsock", "tcp"), SECOND, 3, t -> t.equals("vsock")
                ? new Transfer.Result(1_000_000_000L, vsockNanos[call[0]++], 0, 0, 0)
                : new Transfer.Result(1_000_000_000L, 2 * SECOND, 0, 0, 0), (s, r) -> { });
        assertThat(o.rates().get("vsock")).containsExactly(8.0, 4.0, 2.0);
        assertThat(o.rates().get("tcp")).containsExactly(4.0, 4.0, 4.0);
        assertThat(o.warmUpTransfers()).isEqualTo(Map.of("vsock", 1, "tcp", 1));
        assertThat(o.warmUpNanos().get("vsock")).isEqualTo(10 * SECOND);
        assertThat(o.timedRounds()).isEqualTo(3);
        assertThat(List.copyOf(o.rates().keySet())).containsExactly("vsock", "tcp");
    }

    @Test
    void ratiosPairTheRoundsOneByOne() {
        List<Double> r = Rounds.ratios(List.of(60.0, 30.0, 62.0), List.of(20.0, 15.0, 31.0));
        assertThat(r).hasSize(3);
        assertThat(r.get(0)).isCloseTo(3.0, within(1e-12));
        assertThat(r.get(1)).isCloseTo(2.0, within(1e-12));
        assertThat(r.get(2)).isCloseTo(2.0, within(1e-12));
    }
}
