package io.vsock4j.conformance;

/** A conformance check that did not hold: the case fails with this one-line message. */
public final class CaseFailure extends RuntimeException {
    public CaseFailure(String message) {
        super(message, null, false, false);
    }
}
