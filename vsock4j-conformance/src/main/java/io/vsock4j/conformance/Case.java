package io.vsock4j.conformance;

/**
 * One conformance case: what the client side does and what the server side does, each on its own
 * thread (or in its own process), talking over {@link Control} and the vsock connection under test.
 * The server half runs against a listener on {@link Side#anyLocal()}, the client half connects to
 * {@link Side#peer()}. A case that older Linux kernels fail carries a {@link KernelDifference}: on such a
 * kernel its failure is reported as the expected difference (DIFFERS), and a pass there is a failure
 * (the marker would be stale). Immutable.
 */
public record Case(String name, Half client, Half server, KernelDifference difference) {
    public Case(String name, Half client, Half server) {
        this(name, client, server, null);
    }

    /** One side's part. */
    @FunctionalInterface
    public interface Half {
        void run(Side side) throws Exception;

        /** A side with nothing to do. */
        Half NOTHING = side -> { };
    }

    /** This case, marked as failing on kernels before {@code difference.fixedIn()}. */
    public Case differs(KernelDifference kernelDifference) {
        return new Case(name, client, server, kernelDifference);
    }
}
