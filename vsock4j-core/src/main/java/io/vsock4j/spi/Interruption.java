package io.vsock4j.spi;

import java.nio.channels.ClosedByInterruptException;

/**
 * What every blocking socket call does when its thread is interrupted, as an interruptible channel
 * does: the socket is closed, the thread's interrupt status stays set, and the call ends with
 * {@link ClosedByInterruptException}. One place, so the engine and the kernel provider cannot drift.
 */
public final class Interruption {
    private Interruption() {
    }

    /**
     * Closes the socket and returns the exception the interrupted call throws.
     *
     * @param closeSocket closes the socket the call was blocked on; must not block for long
     * @param cause       the {@link InterruptedException} that woke the call, or null when the call saw
     *                    the interrupt status instead
     */
    public static ClosedByInterruptException closeSocket(Runnable closeSocket, InterruptedException cause) {
        Thread.currentThread().interrupt();
        closeSocket.run();
        ClosedByInterruptException closed = new ClosedByInterruptException();
        if (cause != null) {
            closed.initCause(cause);
        }
        return closed;
    }
}
