package io.vsock4j.internal.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * libc functions bound through java.lang.foreign (no JNI), the way every vsock4j transport binds them.
 *
 * <p>C reports failure as -1 (or MAP_FAILED) with the reason in the thread's {@code errno}, which the JVM
 * may overwrite before Java code could read it. So every handle made here captures {@code errno} at the
 * moment the call returns, into a cell the caller passes as the handle's first argument
 * ({@link #errnoCell}). {@link #result} then folds the two into one number: the C result when it
 * succeeded, {@code -errno} when it failed. Callers branch on that number and allocate nothing; the
 * exception, when one is wanted, comes from {@link NativeErrors}.
 *
 * <p>Thread-safety: the handles are immutable and callable from any thread; an errno cell must be used
 * by one thread at a time.
 */
public final class Downcalls {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final Linker.Option HEAP_ARRAYS_BY_ADDRESS = Linker.Option.critical(true);

    private Downcalls() {
    }

    /**
     * The libc function {@code name} with {@code errno} captured, plus any further {@code options} (such
     * as {@link Linker.Option#firstVariadicArg} for ioctl and fcntl). The handle takes the errno cell
     * first, then the C arguments.
     *
     * @throws UnsatisfiedLinkError when libc has no such function
     */
    public static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        Linker.Option[] all = new Linker.Option[options.length + 1];
        all[0] = CAPTURE_ERRNO;
        System.arraycopy(options, 0, all, 1, options.length);
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, all);
    }

    /**
     * As {@link #downcall}, but critical: no thread-state transition, and heap arrays passed by address
     * so bytes go straight between the kernel and a Java array. Only for calls that never block (an
     * O_NONBLOCK descriptor, an eventfd counter): the thread stays in Java state, so a blocked call
     * would stall every safepoint.
     */
    public static MethodHandle criticalDowncall(String name, FunctionDescriptor fd) {
        return downcall(name, fd, HEAP_ARRAYS_BY_ADDRESS);
    }

    /** A cell for the captured errno, owned by {@code arena}; use it from one thread at a time. */
    public static MemorySegment errnoCell(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    /** The errno the last call through {@code cell} captured. */
    public static int errno(MemorySegment cell) {
        return (int) ERRNO.get(cell, 0L);
    }

    /** {@code r} when the call succeeded (not negative), otherwise {@code -errno}. */
    public static int result(int r, MemorySegment cell) {
        return r >= 0 ? r : -errno(cell);
    }

    /** {@code r} when the call succeeded (not negative), otherwise {@code -errno}. */
    public static long result(long r, MemorySegment cell) {
        return r >= 0 ? r : -errno(cell);
    }

    /**
     * For a handle's {@code invokeExact}, which declares Throwable: unchecked throwables pass through
     * unchanged, and a checked one (which a downcall never throws) becomes an IllegalStateException.
     * Callers write {@code throw rethrow(t)} so the compiler sees the branch end.
     */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException("native call failed", t);
    }
}
