package io.vsock4j.cli.proxy;

import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;

/** {@link ProxyRelayCases} on this JVM's own Java-loopback machine. */
class ProxyRelayTest extends ProxyRelayCases {
    @Override
    Machine newMachine() {
        return Machines.loopback();
    }
}
