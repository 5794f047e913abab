package io.vsock4j.netty;

import io.netty.channel.ChannelPromise;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.vsock4j.Readiness;

/**
 * A channel's registration with its {@link VsockIoHandler} and the {@link Readiness} bits it has asked
 * that handler to watch: what {@link VsockChannel} and {@link VsockServerChannel} keep alike. A change of
 * bits is submitted at once while registered; a channel registered again (on another loop) asks for the
 * same bits there.
 *
 * <p>Threads: the channel's event loop only, as the channel's own fields.
 */
final class VsockInterest {
    private IoRegistration registration;
    private int bits;

    /** Registers {@code handle} on {@code loop}, then completes {@code promise}. */
    void register(IoEventLoop loop, IoHandle handle, ChannelPromise promise) {
        loop.register(handle).addListener(f -> {
            if (f.isSuccess()) {
                registration = (IoRegistration) f.getNow();
                if (bits != 0) {
                    registration.submit(VsockIoOps.of(bits));
                }
                promise.setSuccess();
            } else {
                promise.setFailure(f.cause());
            }
        });
    }

    void deregister() {
        IoRegistration r = registration;
        if (r != null) {
            registration = null;
            r.cancel();
        }
    }

    /** The bits asked for now. */
    int bits() {
        return bits;
    }

    /** Asks for exactly {@code newBits} from now on. */
    void set(int newBits) {
        if (newBits != bits) {
            bits = newBits;
            IoRegistration r = registration;
            if (r != null && r.isValid()) {
                r.submit(VsockIoOps.of(newBits));
            }
        }
    }
}
