package io.vsock4j.conformance;

import io.vsock4j.core.Machine;
import io.vsock4j.spi.SocketProvider;

/** The conformance cases on the Java loopback: a fresh machine per test. */
class LoopbackConformanceTest extends ConformanceCases {
    @Override
    protected SocketProvider openProvider() {
        return Machine.loopback();
    }

    @Override
    protected void closeProvider(SocketProvider p) {
        ((Machine) p).close();
    }
}
