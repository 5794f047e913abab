package io.vsock4j.cli.perf;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code vsock perf --compare} (vsock, TCP and Unix sockets) and {@code --local} (vsock alone): runs the
 * {@link Rounds} through a runner and prints each transport's median Gbit/s over the timed rounds with its
 * spread (smallest and largest round), the ratios of the first transport to the others, and how many
 * rounds ran; as text, or as one JSON object. Main thread.
 */
final class Comparison {
    private final List<String> transports;
    private final Map<String, String> labels;
    private final long bytes;
    private final int bufSize;
    private final long warmUpNanos;
    private final int timedRounds;

    /** {@code labels} names each transport for people, e.g. "vsock (java, CID 1)"; its keys are the transports, in order. */
    Comparison(Map<String, String> labels, long bytes, int bufSize, long warmUpNanos, int timedRounds) {
        this.transports = List.copyOf(labels.keySet());
        this.labels = labels;
        this.bytes = bytes;
        this.bufSize = bufSize;
        this.warmUpNanos = warmUpNanos;
        this.timedRounds = timedRounds;
    }

    /** Runs the rounds; {@code progress} (stderr) hears of each transfer, {@code out} gets the report. */
    void run(Rounds.Runner runner, PrintStream out, PrintStream progress, boolean json)
            throws IOException, InterruptedException {
        progress.printf("vsock perf: %s; warm-up of %.1f s each, then %d timed rounds; %d bytes per transfer%n",
                String.join(", ", transports), warmUpNanos / 1e9, timedRounds, bytes);
        Rounds.Outcome outcome = Rounds.run(transports, warmUpNanos, timedRounds, runner, (step, r) ->
                progress.printf("  %-7s %-5s %8.3f Gbit/s%n", (step.timed() ? "round " : "warm ") + (step.round() + 1),
                        step.transport(), r.gbitPerSecond()));
        out.println(json ? json(outcome) : text(outcome));
    }

    String text(Rounds.Outcome outcome) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%d bytes per transfer in %d-byte writes, receiver's first byte to EOF.%n", bytes, bufSize));
        b.append("Warm-up (untimed): ");
        for (String t : transports) {
            b.append(String.format("%s%s %d transfers in %.1f s", t.equals(transports.getFirst()) ? "" : ", ", t,
                    outcome.warmUpTransfers().get(t), outcome.warmUpNanos().get(t) / 1e9));
        }
        b.append(String.format(".%nThen %d timed rounds, the transports interleaved in each:%n", outcome.timedRounds()));
        b.append(String.format("%-26s %14s %10s %10s%n", "", "median Gbit/s", "min", "max"));
        for (String t : transports) {
            Stats s = Stats.of(outcome.rates().get(t));
            b.append(String.format("%-26s %14.3f %10.3f %10.3f%n", labels.get(t), s.median(), s.min(), s.max()));
        }
        for (Ratio r : ratios(outcome.rates())) {
            b.append(String.format("%s: %.2f (ratio of the medians; round by round %.2f to %.2f, median %.2f)%n",
                    r.name(), r.ofMedians(), r.perRound().min(), r.perRound().max(), r.perRound().median()));
        }
        return b.toString().stripTrailing();
    }

    String json(Rounds.Outcome outcome) {
        StringBuilder b = new StringBuilder("{\"mode\":").append(Json.string(transports.size() > 1 ? "compare" : "local"))
                .append(",\"bytesPerTransfer\":").append(bytes).append(",\"bufSize\":").append(bufSize)
                .append(",\"warmUpSeconds\":").append(Json.number(warmUpNanos / 1e9))
                .append(",\"timedRounds\":").append(outcome.timedRounds())
                .append(",\"unit\":\"Gbit/s\",\"transports\":[");
        for (int i = 0; i < transports.size(); i++) {
            String t = transports.get(i);
            b.append(i == 0 ? "" : ",").append("{\"name\":").append(Json.string(t))
                    .append(",\"label\":").append(Json.string(labels.get(t)))
                    .append(",\"warmUpTransfers\":").append(outcome.warmUpTransfers().get(t))
                    .append(",\"warmUpSeconds\":").append(Json.number(outcome.warmUpNanos().get(t) / 1e9))
                    .append(",\"rounds\":").append(Json.numbers(outcome.rates().get(t)))
                    .append(",\"stats\":").append(Json.stats(Stats.of(outcome.rates().get(t)))).append('}');
        }
        b.append("],\"ratios\":[");
        List<Ratio> ratios = ratios(outcome.rates());
        for (int i = 0; i < ratios.size(); i++) {
            Ratio r = ratios.get(i);
            b.append(i == 0 ? "" : ",").append("{\"name\":").append(Json.string(r.name()))
                    .append(",\"ofMedians\":").append(Json.number(r.ofMedians()))
                    .append(",\"perRound\":").append(Json.stats(r.perRound())).append('}');
        }
        return b.append("]}").toString();
    }

    /** The first transport against one other. */
    private record Ratio(String name, double ofMedians, Stats perRound) {
    }

    private List<Ratio> ratios(Map<String, List<Double>> rates) {
        List<Ratio> ratios = new ArrayList<>();
        String first = transports.getFirst();
        double firstMedian = Stats.of(rates.get(first)).median();
        for (String other : transports.subList(1, transports.size())) {
            double otherMedian = Stats.of(rates.get(other)).median();
            ratios.add(new Ratio(first + "/" + other, otherMedian == 0 ? 0 : firstMedian / otherMedian,
                    Stats.of(Rounds.ratios(rates.get(first), rates.get(other)))));
        }
        return ratios;
    }
}
