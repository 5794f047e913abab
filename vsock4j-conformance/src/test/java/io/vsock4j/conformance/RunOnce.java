package io.vsock4j.conformance;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;

/**
 * A run that happens once: on a pool thread when {@linkplain #startOn started early}, otherwise in the
 * first {@link #get}. Every {@link #get} waits for it and returns its result, or throws what it threw, so
 * a run that failed fails each test that asks for it with the same cause.
 */
final class RunOnce<T> {
    private final FutureTask<T> task;

    RunOnce(Callable<T> run) {
        this.task = new FutureTask<>(run);
    }

    /**
     * Queues the run on {@code pool}; a run that has started by then (or starts first in {@link #get}) is
     * not repeated.
     */
    void startOn(Executor pool) {
        pool.execute(task);
    }

    T get() throws Exception {
        task.run(); // runs it here unless it already ran or is running; then get() waits for that run
        try {
            return task.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }
}
