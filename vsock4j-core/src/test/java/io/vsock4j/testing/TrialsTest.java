package io.vsock4j.testing;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The seeded runner itself: reproducible draws, and failures that say how to replay them. */
final class TrialsTest {

    @Test
    void aFailureNamesThePropertyTheTryAndTheSeed() {
        IllegalStateException cause = new IllegalStateException("boom");
        AssertionError e = catchThrowableOfType(AssertionError.class, () -> Trials.forAll("someProperty", 10, r -> {
            if (r.nextInt(3) == 0) {
                throw cause;
            }
        }));
        assertThat(e).hasMessageStartingWith("someProperty failed on try ")
                .hasMessageContaining(" of 10 with seed " + Trials.seed())
                .hasMessageContaining("-D" + Trials.SEED_PROPERTY + "=" + Trials.seed())
                .hasMessageEndingWith(": boom")
                .hasCause(cause);
    }

    @Test
    void theSameSeedDrawsTheSameInputs() {
        List<Long> first = new ArrayList<>();
        List<Long> second = new ArrayList<>();
        Trials.forAll("first", 50, r -> first.add(r.nextLong()));
        Trials.forAll("second", 50, r -> second.add(r.nextLong()));
        assertThat(first).hasSize(50).doesNotHaveDuplicates().isEqualTo(second);
    }

    @Test
    void allTriesRunWhenNoneFails() {
        int[] runs = new int[1];
        Trials.forAll("counting", 123, r -> runs[0]++);
        assertThat(runs[0]).isEqualTo(123);
    }
}
