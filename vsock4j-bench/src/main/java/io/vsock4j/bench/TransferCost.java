package io.vsock4j.bench;

import io.vsock4j.transport.vhostuser.RingCounters;
import io.vsock4j.transport.vhostuser.VhostUserVsock;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where one transfer of {@link DeviceThroughput} spent its time: CPU seconds of the device's ring
 * thread and of the JVM thread that read or wrote the socket (ThreadMXBean), of QEMU's two busiest
 * threads (the vCPUs under multi-threaded TCG with two CPUs: QEMU names its threads only with
 * debug-threads=on, so they are found by use) and of QEMU as a whole (/proc, in USER_HZ ticks), and
 * what the ring thread did (wake-ups, chains, interrupts). A start snapshot, then {@link #report} after
 * the transfer: if the vCPUs are busy all the time and the ring thread is not, the guest limits the
 * transfer, not the device.
 */
final class TransferCost {
    private static final double TICKS_PER_SECOND = 100; // USER_HZ on Linux
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
    /** The key of the whole process's ticks among the threads'. */
    private static final String WHOLE = "qemu";

    private final VhostUserVsock device;
    private final long startNanos = System.nanoTime();
    private final long ringCpu;
    private final long ioCpu = MX.getCurrentThreadCpuTime();
    private final Map<String, Long> qemuTicks;
    private final RingCounters counters;

    TransferCost(VhostUserVsock device) {
        this.device = device;
        this.ringCpu = ringThreadCpu();
        this.qemuTicks = qemuTicks();
        this.counters = device.counters();
    }

    /** One line: "cost wall S ring S io S vcpus S qemu S wakeups N tx N rx N irq N (per MiB ...)". */
    String report(long bytes) {
        double wall = (System.nanoTime() - startNanos) / 1e9;
        double ring = (ringThreadCpu() - ringCpu) / 1e9;
        double io = (MX.getCurrentThreadCpuTime() - ioCpu) / 1e9;
        Map<String, Long> q = qemuTicks();
        double qemu = (q.getOrDefault(WHOLE, 0L) - qemuTicks.getOrDefault(WHOLE, 0L)) / TICKS_PER_SECOND;
        List<Long> busiest = q.entrySet().stream().filter(e -> !e.getKey().equals(WHOLE))
                .map(e -> e.getValue() - qemuTicks.getOrDefault(e.getKey(), 0L))
                .sorted(Comparator.reverseOrder()).limit(2).toList();
        double vcpus = busiest.stream().mapToLong(Long::longValue).sum() / TICKS_PER_SECOND;
        RingCounters c = device.counters().minus(counters);
        double mib = bytes / 1048576.0;
        return String.format("cost wall %.2f s, cpu: ring thread %.2f s (%.0f%%), socket thread %.2f s (%.0f%%),"
                        + " QEMU's two busiest threads %.2f s (%.0f%% of one core), QEMU %.2f s; per MiB: %.1f wake-ups, %.1f tx chains,"
                        + " %.1f rx chains, %.1f interrupts",
                wall, ring, 100 * ring / wall, io, 100 * io / wall, vcpus, 100 * vcpus / wall, qemu,
                c.wakeups() / mib, c.txChains() / mib, c.rxChains() / mib, c.interrupts() / mib);
    }

    private static long ringThreadCpu() {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().endsWith(" rings")) {
                return MX.getThreadCpuTime(t.threadId());
            }
        }
        return 0;
    }

    /** Ticks per QEMU thread id, and the whole process's under {@link #WHOLE}; empty when no QEMU runs. */
    private static Map<String, Long> qemuTicks() {
        Map<String, Long> ticks = new HashMap<>();
        Optional<ProcessHandle> qemu = ProcessHandle.allProcesses()
                .filter(h -> h.info().command().orElse("").contains("qemu-system")).findFirst();
        if (qemu.isEmpty()) {
            return ticks;
        }
        Path proc = Path.of("/proc", Long.toString(qemu.get().pid()));
        try (Stream<Path> tasks = Files.list(proc.resolve("task"))) {
            for (Path task : tasks.toList()) {
                ticks.put(task.getFileName().toString(), ticks(Files.readString(task.resolve("stat"))));
            }
            ticks.put(WHOLE, ticks(Files.readString(proc.resolve("stat"))));
        } catch (IOException e) {
            ticks.clear(); // QEMU just went away
        }
        return ticks;
    }

    /** utime + stime of a /proc stat line (fields 14 and 15, after the parenthesised name). */
    private static long ticks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
