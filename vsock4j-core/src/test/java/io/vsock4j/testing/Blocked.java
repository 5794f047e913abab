package io.vsock4j.testing;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * Waits for a thread to be parked inside a vsock4j call, so a test can act on a blocked call without
 * a fixed sleep: the Java engine's waits park (WAITING or TIMED_WAITING), and the thread's stack
 * names the call. The conformance suite's {@code Checks.awaitBlocked} does the same for every provider
 * (it also accepts a thread in a system call); core tests cannot depend on that module. {@link #start}
 * runs a call that is meant to block on a thread of its own and keeps how it ended. Any thread.
 */
public final class Blocked {
    private Blocked() {
    }

    /**
     * Polls until {@code thread} is parked with a frame of an {@code io.vsock4j} method named
     * {@code method} on its stack. Unbounded: the test's {@code @Timeout} ends a wait that never ends. A
     * thread that ends first fails the wait at once.
     */
    public static void awaitParkedIn(Thread thread, String method) throws InterruptedException {
        while (!parkedIn(thread, method)) {
            if (!thread.isAlive()) {
                throw new AssertionError(thread + " ended before it blocked in " + method);
            }
            Thread.sleep(1);
        }
    }

    /** Whether {@code thread} is parked inside an io.vsock4j method named {@code method}. */
    public static boolean parkedIn(Thread thread, String method) {
        Thread.State state = thread.getState();
        if (state != Thread.State.WAITING && state != Thread.State.TIMED_WAITING) {
            return false;
        }
        return Arrays.stream(thread.getStackTrace())
                .anyMatch(f -> f.getClassName().startsWith("io.vsock4j.") && f.getMethodName().equals(method));
    }

    /** A call that may block: a socket read, write, accept. */
    @FunctionalInterface
    public interface Blocking {
        void run() throws Exception;
    }

    /** A call running on a platform thread of its own, and how it ended. */
    public static final class Call {
        private final Thread thread;
        private final CompletableFuture<Throwable> ended = new CompletableFuture<>();

        private Call(String name, Blocking call) {
            thread = Thread.ofPlatform().name(name).daemon(true).unstarted(() -> {
                try {
                    call.run();
                    ended.complete(null);
                } catch (Throwable t) {
                    ended.complete(t);
                }
            });
        }

        /** The thread the call runs on. */
        public Thread thread() {
            return thread;
        }

        /** Waits until the call is parked in an io.vsock4j method named {@code method}. */
        public Call awaitParkedIn(String method) throws InterruptedException {
            try {
                Blocked.awaitParkedIn(thread, method);
            } catch (AssertionError ended) {
                ended.initCause(this.ended.getNow(null)); // why it ended: the call's exception, or none
                throw ended;
            }
            return this;
        }

        /**
         * What the call threw, null if it returned. {@code hangAfter} is no deadline on how fast the
         * call ends (a test calls this once whatever should wake it has happened, on sockets without
         * timeouts): it only turns a hang into a failure that shows the stuck thread's stack.
         */
        public Throwable end(Duration hangAfter) throws Exception {
            thread.join(hangAfter);
            if (thread.isAlive()) {
                throw new AssertionError("still blocked: " + describe(thread));
            }
            return ended.get();
        }
    }

    /** Starts {@code call} on a daemon platform thread named {@code name}. */
    public static Call start(String name, Blocking call) {
        Call c = new Call(name, call);
        c.thread.start();
        return c;
    }

    /** A thread's name, state and stack, for a failure message. */
    public static String describe(Thread thread) {
        StringBuilder b = new StringBuilder(thread.toString()).append(" (").append(thread.getState()).append(")");
        for (StackTraceElement f : thread.getStackTrace()) {
            b.append("\n    at ").append(f);
        }
        return b.toString();
    }
}
