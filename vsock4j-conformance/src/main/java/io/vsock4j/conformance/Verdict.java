package io.vsock4j.conformance;

/**
 * The outcome of one case on one target, and its line in the suite's output:
 * {@code PASS n name (T ms)}, {@code FAIL n name (T ms): reason} or {@code DIFFERS n name (T ms): differs
 * on Linux before X: why: reason}. Immutable.
 */
public record Verdict(int number, Case testCase, Outcome outcome, String reason, long millis) {
    /** PASS, FAIL, or DIFFERS: failed as {@link Case#difference()} says this kernel does. */
    public enum Outcome { PASS, FAIL, DIFFERS }

    /**
     * The verdict from what the halves reported ({@code failure} null when both passed), given the
     * release of the kernel that ran the half the case's difference lies in (null for a Java engine).
     */
    static Verdict of(int number, Case c, String failure, String kernelRelease, long millis) {
        KernelDifference d = c.difference();
        if (d == null || !d.appliesTo(kernelRelease)) {
            return new Verdict(number, c, failure == null ? Outcome.PASS : Outcome.FAIL, failure, millis);
        }
        if (failure == null) {
            return new Verdict(number, c, Outcome.FAIL, "passed on Linux " + kernelRelease
                    + ", which the case says " + d.describe() + " (" + d.commit() + "): is the marker stale?", millis);
        }
        if (!failure.contains(d.symptom())) {
            return new Verdict(number, c, Outcome.FAIL, "failed otherwise than " + d.describe()
                    + " (expected '" + d.symptom() + "'): " + failure, millis);
        }
        return new Verdict(number, c, Outcome.DIFFERS, d.describe() + ": " + failure, millis);
    }

    public String line() {
        return outcome + " " + number + " " + testCase.name() + " (" + millis + " ms)" + (reason == null ? "" : ": " + reason);
    }
}
