package io.vsock4j.testing;

import java.util.Arrays;

/**
 * Waits for a thread to be parked inside a vsock4j call, so a test can act on a blocked call without
 * a fixed sleep: the Java engine's waits park (WAITING or TIMED_WAITING), and the thread's stack
 * names the call. The conformance suite's {@code Checks.awaitBlocked} does the same for every provider
 * (it also accepts a thread in a system call); core tests cannot depend on that module. Any thread.
 */
public final class Blocked {
    private Blocked() {
    }

    /**
     * Polls until {@code thread} is parked with a frame of an {@code io.vsock4j} method named
     * {@code method} on its stack. Unbounded: the test's {@code @Timeout} ends a wait that never ends. A
     * thread that dies first fails at once, naming its state.
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

    /** A thread's name, state and stack, for a failure message. */
    public static String describe(Thread thread) {
        StringBuilder b = new StringBuilder(thread.toString()).append(" (").append(thread.getState()).append(")");
        for (StackTraceElement f : thread.getStackTrace()) {
            b.append("\n    at ").append(f);
        }
        return b.toString();
    }
}
