package io.vsock4j.cli.perf;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StatsTest {
    @Test
    void anOddCountHasTheMiddleValueAsItsMedianWhateverTheOrder() {
        Stats s = Stats.of(List.of(9.0, 1.0, 5.0, 61.5, 3.0));
        assertThat(s.median()).isEqualTo(5);
        assertThat(s.min()).isEqualTo(1);
        assertThat(s.max()).isEqualTo(61.5);
        assertThat(s.count()).isEqualTo(5);
    }

    @Test
    void anEvenCountAveragesTheTwoMiddleValues() {
        assertThat(Stats.of(List.of(4.0, 1.0, 3.0, 2.0)).median()).isEqualTo(2.5);
    }

    @Test
    void oneSlowRoundDoesNotMoveTheMedianButShowsInTheSpread() {
        Stats s = Stats.of(List.of(60.0, 61.0, 15.0, 62.0, 59.0));
        assertThat(s.median()).isEqualTo(60);
        assertThat(s.min()).isEqualTo(15);
        assertThat(s.max()).isEqualTo(62);
    }

    @Test
    void oneValueIsItsOwnMedianWithNoSpread() {
        Stats s = Stats.of(List.of(7.0));
        assertThat(s).isEqualTo(new Stats(1, 7, 7, 7));
    }

    @Test
    void noValuesIsAnError() {
        assertThatThrownBy(() -> Stats.of(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
