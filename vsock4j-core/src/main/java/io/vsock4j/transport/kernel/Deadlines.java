package io.vsock4j.transport.kernel;

/** Per-call deadlines as {@link System#nanoTime()} values. Stateless. */
final class Deadlines {
    /** No deadline: wait forever. */
    static final long NONE = Long.MIN_VALUE;

    private Deadlines() {
    }

    /** The deadline {@code timeoutNanos} from now; 0 or less means {@link #NONE}. */
    static long after(long timeoutNanos) {
        if (timeoutNanos <= 0) {
            return NONE;
        }
        long d = System.nanoTime() + timeoutNanos;
        return d == NONE ? d + 1 : d;
    }

    static boolean passed(long deadline) {
        return deadline != NONE && System.nanoTime() - deadline >= 0;
    }
}
