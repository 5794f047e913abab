package io.vsock4j.cli.perf;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

class TransferTest {
    private static final long MS = 1_000_000L;
    private static final long MB = 1_000_000L;

    /** A run of {@code seconds} at 1 MB per ms, noted every ms from t = 1000 s. */
    private static Transfer.Result run(long omitNanos, int milliseconds) {
        long start = 1000_000 * MS;
        Transfer.Window w = new Transfer.Window(start, omitNanos);
        for (int ms = 1; ms <= milliseconds; ms++) {
            w.moved(ms * MB, start + ms * MS);
        }
        return w.end(milliseconds * MB, start + milliseconds * MS);
    }

    @Test
    void theWarmRateLeavesOutTheFirstOmitSeconds() {
        Transfer.Result r = run(2000 * MS, 10_000);
        assertThat(r.bytes()).isEqualTo(10_000 * MB);
        assertThat(r.nanos()).isEqualTo(10_000 * MS);
        assertThat(r.omitNanos()).isEqualTo(2000 * MS);
        // Noted every ms for the first 1024, then every 2 ms, 4 ms...: the cut lands on the first note at or after 2 s.
        assertThat(r.omittedNanos()).isBetween(2000 * MS, 2008 * MS);
        assertThat(r.omittedBytes()).isEqualTo(r.omittedNanos() / MS * MB);
        assertThat(r.hasWarmPart()).isTrue();
        assertThat(r.warmBytes() + r.omittedBytes()).isEqualTo(r.bytes());
        assertThat(r.warmGbitPerSecond()).isEqualTo(8.0);
    }

    @Test
    void aRunShorterThanTwiceTheOmitLosesOnlyItsFirstHalf() {
        Transfer.Result r = run(2000 * MS, 600);
        assertThat(r.omittedNanos()).isEqualTo(300 * MS);
        assertThat(r.omittedBytes()).isEqualTo(300 * MB);
        assertThat(r.warmBytes()).isEqualTo(300 * MB);
        assertThat(r.warmNanos()).isEqualTo(300 * MS);
    }

    @Test
    void omitZeroMakesTheWarmRateTheWholeRate() {
        Transfer.Result r = run(0, 500);
        assertThat(r.omittedNanos()).isZero();
        assertThat(r.omittedBytes()).isZero();
        assertThat(r.warmGbitPerSecond()).isEqualTo(r.gbitPerSecond());
    }

    @Test
    void aRunWithNoNoteAfterItsFirstHalfHasNoWarmPart() {
        Transfer.Window w = new Transfer.Window(0, 2000 * MS);
        w.moved(MB, 100_000); // 0.1 ms in: too soon for a note
        Transfer.Result r = w.end(MB, 200_000);
        assertThat(r.hasWarmPart()).isFalse();
        assertThat(r.gbitPerSecond()).isEqualTo(40.0);
    }

    @Test
    void theLoopsMoveEveryByteWithWritesAndReadsOfTheBufferSize() throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        Transfer.Result sent = Transfer.send(sink, 300_001, 65_536, 0);
        assertThat(sent.bytes()).isEqualTo(300_001);
        assertThat(sink.size()).isEqualTo(300_001);
        Transfer.Result received = Transfer.receive(new ByteArrayInputStream(sink.toByteArray()), 4096, 2000 * MS);
        assertThat(received.bytes()).isEqualTo(300_001);
        assertThat(received.omitNanos()).isEqualTo(2000 * MS);
    }
}
