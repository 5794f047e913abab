package io.vsock4j.conformance;

import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The control channel between the two sides of a case, as vsock_test's TCP control socket: short text
 * lines that say "I am listening", "I have sent", so each side knows when to act. In one process it
 * is a pair of queues ({@link #pair()}); across processes lines over TCP or vsock ({@link LineControl}).
 *
 * <p>One side's control is used by that side's thread only.
 */
public interface Control {
    /** How long a side waits for its peer's next line before the case fails. */
    long TIMEOUT_MILLIS = 15_000;

    void send(String line) throws IOException;

    /** The next line from the peer; fails after {@link #TIMEOUT_MILLIS}. */
    String receive() throws IOException;

    /** Receives the next line and fails unless it is {@code expected}. */
    default void expect(String expected) throws IOException {
        String line = receive();
        if (!expected.equals(line)) {
            throw new CaseFailure("control: expected '" + expected + "' from the peer, got '" + line + "'");
        }
    }

    /** Two connected in-process ends. */
    static Control[] pair() {
        BlockingQueue<String> aToB = new LinkedBlockingQueue<>();
        BlockingQueue<String> bToA = new LinkedBlockingQueue<>();
        return new Control[] {new QueueControl(aToB, bToA), new QueueControl(bToA, aToB)};
    }

    /** One end of an in-process pair. */
    record QueueControl(BlockingQueue<String> out, BlockingQueue<String> in) implements Control {
        @Override
        public void send(String line) {
            out.add(line);
        }

        @Override
        public String receive() throws IOException {
            try {
                String line = in.poll(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
                if (line == null) {
                    throw new CaseFailure("control: the peer said nothing for " + TIMEOUT_MILLIS + " ms");
                }
                return line;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted waiting for the peer");
            }
        }
    }
}
