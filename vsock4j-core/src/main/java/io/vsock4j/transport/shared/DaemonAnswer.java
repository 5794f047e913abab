package io.vsock4j.transport.shared;

import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waiting for the daemon: a request (a bind, a guest to serve, the first word after joining) is answered
 * on the link's reader thread by completing a future; the asking thread waits here, at most
 * {@link #TIMEOUT_MILLIS}. A wait that ends without an answer completes the future itself, so an answer
 * that comes late finds nobody waiting (and the caller can give back what it grants).
 */
final class DaemonAnswer {
    /** How long a request waits for the daemon. */
    static final long TIMEOUT_MILLIS = 10_000;

    private DaemonAnswer() {
    }

    /**
     * The answer; its own IOException if the daemon refused (or the link went down); ETIMEDOUT or EINTR
     * naming {@code what} ("a bind of port 5000") otherwise.
     */
    static <T> T await(CompletableFuture<T> answer, String machine, String what) throws IOException {
        try {
            return answer.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (TimeoutException e) {
            IOException timedOut = Errno.ETIMEDOUT.exception("shared machine " + machine + " did not answer " + what
                    + " within " + TIMEOUT_MILLIS + " ms");
            answer.completeExceptionally(timedOut);
            throw timedOut;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            IOException interrupted = Errno.EINTR.exception("interrupted while waiting for shared machine " + machine
                    + " to answer " + what);
            answer.completeExceptionally(interrupted);
            throw interrupted;
        }
    }
}
