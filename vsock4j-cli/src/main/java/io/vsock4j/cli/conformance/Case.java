package io.vsock4j.cli.conformance;

/**
 * One conformance case: what the client side does and what the server side does, each on its own
 * thread (or in its own process), talking over {@link Control} and the vsock connection under test.
 * The server half runs against a listener on {@link Side#anyLocal()}, the client half connects to
 * {@link Side#peer()}.
 */
public record Case(String name, Half client, Half server) {
    /** One side's part. */
    @FunctionalInterface
    public interface Half {
        void run(Side side) throws Exception;

        /** A side with nothing to do. */
        Half NOTHING = side -> { };
    }
}
