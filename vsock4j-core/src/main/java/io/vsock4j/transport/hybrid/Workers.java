package io.vsock4j.transport.hybrid;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The threads one bridge started, so that closing it can wait for every one of them to end and a test
 * can count them. Long-lived loops (accepting, watching a directory) get platform threads; each
 * connection's work gets virtual threads, which block on sockets cheaply.
 *
 * <p>Any thread may start workers and read the count; {@link #join} is called by the closing thread.
 */
final class Workers {
    private final Set<Thread> live = ConcurrentHashMap.newKeySet();

    /** A daemon platform thread named {@code name} running {@code body}. */
    Thread platform(String name, Runnable body) {
        return start(Thread.ofPlatform().name(name).daemon().unstarted(wrap(body)));
    }

    /** A virtual thread named {@code name} running {@code body}. */
    Thread virtual(String name, Runnable body) {
        return start(Thread.ofVirtual().name(name).unstarted(wrap(body)));
    }

    private Thread start(Thread t) {
        live.add(t);
        t.start();
        return t;
    }

    private Runnable wrap(Runnable body) {
        return () -> {
            try {
                body.run();
            } finally {
                live.remove(Thread.currentThread());
            }
        };
    }

    /** Threads started and not yet finished. */
    int count() {
        return live.size();
    }

    /**
     * Waits up to {@code timeoutMillis} for every worker except the caller to end; true if they did.
     * The caller must first have closed what they block on.
     */
    boolean join(long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        boolean interrupted = false;
        try {
            for (Thread t : Set.copyOf(live)) {
                if (t == Thread.currentThread()) {
                    continue;
                }
                long left = deadline - System.nanoTime();
                while (t.isAlive() && left > 0) {
                    try {
                        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                    left = deadline - System.nanoTime();
                }
            }
            return live.stream().allMatch(t -> t == Thread.currentThread() || !t.isAlive());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
