package io.vsock4j.conformance;

import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.util.Arrays;

/** The assertions cases make; each failure is a {@link CaseFailure} with a one-line reason. Stateless. */
public final class Checks {
    /** How long {@link #eventually} waits for an asynchronous effect (a packet still in flight). */
    static final long EVENTUALLY_MILLIS = 5_000;

    private Checks() {
    }

    /** A call that may fail with an I/O error. */
    @FunctionalInterface
    public interface IoCall {
        void run() throws IOException;
    }

    /** A condition that may need I/O to check. */
    @FunctionalInterface
    public interface IoCondition {
        boolean holds() throws IOException;
    }

    /** Runs {@code call}, which must fail with {@code errno} (its name leads the exception's message). */
    public static IOException errno(Errno errno, String what, IoCall call) {
        try {
            call.run();
        } catch (IOException e) {
            String message = String.valueOf(e.getMessage());
            if (!message.startsWith(errno.name() + ":")) {
                throw new CaseFailure(what + ": expected " + errno.name() + ", got " + e.getClass().getSimpleName()
                        + " '" + message + "'");
            }
            return e;
        }
        throw new CaseFailure(what + ": expected " + errno.name() + ", but it succeeded");
    }

    public static void check(boolean condition, String what) {
        if (!condition) {
            throw new CaseFailure(what);
        }
    }

    public static void equal(long actual, long expected, String what) {
        if (actual != expected) {
            throw new CaseFailure(what + ": expected " + expected + ", got " + actual);
        }
    }

    public static void equalBytes(byte[] actual, int off, int len, byte[] expected, String what) {
        if (!Arrays.equals(actual, off, off + len, expected, 0, expected.length)) {
            throw new CaseFailure(what + ": bytes differ");
        }
    }

    /** Waits until {@code condition} holds, polling; fails after {@link #EVENTUALLY_MILLIS}. */
    public static void eventually(String what, IoCondition condition) throws IOException {
        long deadline = System.nanoTime() + EVENTUALLY_MILLIS * 1_000_000;
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new CaseFailure(what + ": still not true after " + EVENTUALLY_MILLIS + " ms");
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException(what);
            }
        }
    }

    /**
     * Waits until {@code thread} is blocked inside a vsock4j call named {@code method} (read, accept,
     * write, send...): its stack holds that frame and the thread is parked (a virtual thread, or the Java
     * engine's waits) or in a system call (the kernel provider's blocking calls). Polls, no
     * fixed sleep: a thread that has not got there yet is waited for; one that returned fails the case.
     */
    public static void awaitBlocked(Thread thread, String method) throws IOException {
        long deadline = System.nanoTime() + EVENTUALLY_MILLIS * 1_000_000;
        while (!isBlockedIn(thread, method)) {
            if (!thread.isAlive() || System.nanoTime() > deadline) {
                throw new CaseFailure(thread + " never blocked in " + method + " (state " + thread.getState() + ", stack "
                        + Arrays.toString(thread.getStackTrace()) + ")");
            }
            Thread.onSpinWait();
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("waiting for " + thread + " to block");
            }
        }
    }

    private static boolean isBlockedIn(Thread thread, String method) {
        Thread.State state = thread.getState();
        StackTraceElement[] stack = thread.getStackTrace();
        boolean inCall = Arrays.stream(stack)
                .anyMatch(f -> f.getClassName().startsWith("io.vsock4j.") && f.getMethodName().equals(method));
        if (!inCall || stack.length == 0) {
            return false;
        }
        if (state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING || state == Thread.State.BLOCKED) {
            return true;
        }
        // A thread in a system call is RUNNABLE; it shows as a native frame, or as the frame that made an
        // FFM downcall (the downcall's own frames are hidden), e.g. the kernel provider's Native.sendBlocking.
        StackTraceElement top = stack[0];
        return top.isNativeMethod() || top.getClassName().startsWith("jdk.internal.foreign")
                || top.getClassName().startsWith("java.lang.invoke.")
                || top.getClassName().equals("io.vsock4j.transport.kernel.Native");
    }

    /** Whether a call fails with {@code errno} (for use inside {@link #eventually}). */
    public static boolean failsWith(Errno errno, IoCall call) {
        try {
            call.run();
            return false;
        } catch (IOException e) {
            return String.valueOf(e.getMessage()).startsWith(errno.name() + ":");
        }
    }
}
