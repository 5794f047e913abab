package io.vsock4j.conformance;

import org.junit.jupiter.api.DynamicTest;

import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A transport whose both sides live in this JVM: each case runs on machines made for it alone, and
 * afterwards they must have nothing bound or connected left (waited for, bounded: a close completes
 * when the peer's RST arrives). Immutable.
 */
record InProcess(String name, JavaTargets.Factory factory) implements ConformanceTest.Transport {
    @Override
    public Stream<DynamicTest> tests(List<Case> cases) {
        return ConformanceTest.numbers(cases).mapToObj(n -> DynamicTest.dynamicTest(
                ConformanceTest.testName(name, cases.get(n - 1), null), () -> {
                    try (JavaTargets.Open open = factory.open()) {
                        Verdict v = new ConformanceSuite(open.target(), ConformanceSuite.DEFAULT_BASE_PORT).runOne(n);
                        assertThat(v.outcome()).as(v.line()).isEqualTo(Verdict.Outcome.PASS);
                        open.assertNothingLeft();
                    }
                }));
    }
}
