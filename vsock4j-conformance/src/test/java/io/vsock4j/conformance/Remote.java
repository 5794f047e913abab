package io.vsock4j.conformance;

import org.junit.jupiter.api.DynamicTest;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A transport that runs the whole suite elsewhere (a second JVM, the QEMU guest) and hands back its
 * output: the run happens once, early on a pool thread when it involves the guest ({@link #startEarly})
 * or else in the first of its tests, and each case's test then checks its own line, PASS, or DIFFERS
 * where the kernel that runs the half a {@link KernelDifference} of the case lies in predates it. Its
 * tests run one after another on JUnit's thread.
 *
 * @param serverSeries "6.1" when the server halves run on a kernel of that series, null for a Java engine
 * @param clientSeries the same for the client halves
 * @param run          the run, whose result is its output
 */
record Remote(String name, String serverSeries, String clientSeries, RunOnce<String> run)
        implements ConformanceTest.Transport {
    private static final Pattern LINE = Pattern.compile("^(PASS|FAIL|DIFFERS) (\\d+) (.*)$", Pattern.MULTILINE);

    /** Both halves on a kernel of {@code kernelSeries}, or both on Java engines (null). */
    Remote(String name, String kernelSeries, Callable<String> run) {
        this(name, kernelSeries, kernelSeries, run);
    }

    Remote(String name, String serverSeries, String clientSeries, Callable<String> run) {
        this(name, serverSeries, clientSeries, new RunOnce<>(run));
    }

    /** Only a run in the guest starts early: it waits on QEMU's one emulated CPU thread, not on this JVM. */
    @Override
    public void startEarly(Executor guestRuns) {
        if (serverSeries != null || clientSeries != null) {
            run.startOn(guestRuns);
        }
    }

    /** The series of the kernel that runs the half the case's difference lies in, or null. */
    private String seriesShowing(Case c) {
        if (c.difference() == null) {
            return null;
        }
        return c.difference().half() == KernelDifference.Half.SERVER ? serverSeries : clientSeries;
    }

    @Override
    public Stream<DynamicTest> tests(List<Case> cases) {
        return ConformanceTest.numbers(cases).mapToObj(n -> {
            Case c = cases.get(n - 1);
            return DynamicTest.dynamicTest(ConformanceTest.testName(name, c, seriesShowing(c)), () -> check(n, c));
        });
    }

    private void check(int number, Case c) throws Exception {
        String out = output();
        Map<Integer, String> lines = verdictLines(out);
        String line = lines.get(number);
        if (line == null) {
            fail("no verdict for case " + number + " in the run's output:\n" + tail(out));
        }
        boolean differs = c.difference() != null && c.difference().appliesTo(seriesShowing(c));
        String expected = (differs ? "DIFFERS " : "PASS ") + number + " " + c.name();
        System.out.println(name + ": " + line);
        assertThat(line).as("verdict").startsWith(expected);
    }

    /** The run's output; a run that threw fails every case with its cause. */
    private String output() throws Exception {
        return run.get();
    }

    static Map<Integer, String> verdictLines(String out) {
        Matcher m = LINE.matcher(out);
        return m.results().collect(Collectors.toMap(r -> Integer.parseInt(r.group(2)), r -> r.group(), (a, b) -> a + " / " + b));
    }

    static String tail(String s) {
        return s.length() > 6000 ? "..." + s.substring(s.length() - 6000) : s;
    }
}
