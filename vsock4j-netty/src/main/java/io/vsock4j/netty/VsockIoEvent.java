package io.vsock4j.netty;

import io.netty.channel.IoEvent;
import io.vsock4j.Readiness;

/**
 * What a {@link VsockIoHandler} tells a handle: the {@link Readiness} bits that hold now and that the
 * handle waits for. The handler reuses one instance per event loop, so, as {@link IoEvent} says, it is
 * valid only during the {@code handle} call. Event-loop thread only.
 */
public final class VsockIoEvent implements IoEvent {
    private int readyOps;

    VsockIoEvent() {
    }

    VsockIoEvent set(int ops) {
        readyOps = ops;
        return this;
    }

    /** The ready {@link Readiness} bits, within the handle's interest. */
    public int readyOps() {
        return readyOps;
    }

    @Override
    public String toString() {
        return "VsockIoEvent[" + Readiness.toString(readyOps) + "]";
    }
}
