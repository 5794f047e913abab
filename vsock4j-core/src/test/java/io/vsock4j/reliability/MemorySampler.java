package io.vsock4j.reliability;

import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.engine.Connection;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Set;

/**
 * Watches the memory of a load run in this JVM from a platform thread of its own: every
 * {@link #RETAINED_PERIOD_MILLIS} it adds up what the engine's receive queues hold
 * ({@link Connection#retainedBytes}) over the sockets open now, and every {@link #GC_PERIOD_MILLIS} it
 * runs a full GC and reads the heap in use, keeping the peak of each. {@link #stop} stops it and
 * returns the peaks; {@link #close} only stops it.
 */
final class MemorySampler implements AutoCloseable {
    private static final long RETAINED_PERIOD_MILLIS = 20;
    /** A full GC with a few hundred MiB live takes a fraction of a second on two cores: not too often. */
    private static final long GC_PERIOD_MILLIS = 1_000;

    /** Peaks seen over a run; heap figures are after a full GC, relative to the heap in use before it. */
    record Peaks(long retainedTotalBytes, long retainedPerConnectionBytes, int openSockets,
                 long heapGrowthBytes, int heapSamples) {
        @Override
        public String toString() {
            return String.format("receive queues held at most %.1f MiB in all (%d KiB on one connection, %d sockets open"
                            + " at most); heap in use after GC grew by at most %.1f MiB (%d samples)",
                    retainedTotalBytes / MIB, retainedPerConnectionBytes / 1024, openSockets,
                    heapGrowthBytes / MIB, heapSamples);
        }
    }

    private static final double MIB = 1024.0 * 1024;

    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final Set<VsockSocket> live;
    private final long baselineBytes;
    private final Thread thread;
    private volatile boolean stop;
    /** Written by the sampling thread only; read after it has been joined. */
    private long retainedTotal;
    private long retainedPerConnection;
    private int openSockets;
    private long heapGrowth;
    private int heapSamples;

    /** Takes the baseline (after a full GC) and starts sampling {@code live}. */
    MemorySampler(Set<VsockSocket> live) {
        this.live = live;
        this.baselineBytes = heapAfterGc();
        this.thread = Thread.ofPlatform().name("load-memory-sampler").daemon(true).start(this::sample);
    }

    private long heapAfterGc() {
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    private void sample() {
        long nextGc = System.nanoTime() + GC_PERIOD_MILLIS * 1_000_000;
        while (!stop) {
            long total = 0;
            int open = 0;
            for (VsockSocket s : live) {
                Connection c = Machine.connectionOf(s.handle());
                if (c != null) {
                    long held = c.retainedBytes();
                    total += held;
                    retainedPerConnection = Math.max(retainedPerConnection, held);
                    open++;
                }
            }
            retainedTotal = Math.max(retainedTotal, total);
            openSockets = Math.max(openSockets, open);
            if (System.nanoTime() - nextGc >= 0) {
                heapGrowth = Math.max(heapGrowth, heapAfterGc() - baselineBytes);
                heapSamples++;
                nextGc = System.nanoTime() + GC_PERIOD_MILLIS * 1_000_000;
            }
            try {
                Thread.sleep(RETAINED_PERIOD_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Stops sampling and returns the peaks. */
    Peaks stop() {
        close();
        return new Peaks(retainedTotal, retainedPerConnection, openSockets, heapGrowth, heapSamples);
    }

    @Override
    public void close() {
        stop = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
