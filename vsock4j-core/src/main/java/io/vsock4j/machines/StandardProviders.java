package io.vsock4j.machines;

import io.vsock4j.SocketProvider;

import java.io.IOException;
import java.util.List;

/** vsock4j's own providers, as the {@link SocketProvider.Factory} service {@link io.vsock4j.Vsock} loads. */
public final class StandardProviders implements SocketProvider.Factory {
    @Override
    public List<String> names() {
        return Machines.PROVIDER_NAMES;
    }

    @Override
    public SocketProvider open(String name) throws IOException {
        return Machines.provider(name);
    }
}
