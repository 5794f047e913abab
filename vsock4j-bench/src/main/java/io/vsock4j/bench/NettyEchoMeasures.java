package io.vsock4j.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;

import java.util.concurrent.TimeUnit;

/**
 * The two measurements of a {@link NettyEchoPair}, written once for {@link NettyEcho} (on the host) and
 * {@link NettyEchoInGuest} (in the guest), which only set the pair up and tear it down. JMH runs a
 * superclass's benchmark methods as the subclass's own.
 */
public abstract class NettyEchoMeasures {
    /** Made by the subclass's set-up. */
    protected NettyEchoPair pair;

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public long stream() {
        return pair.stream();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long roundTrip() {
        return pair.roundTrip();
    }
}
