package io.vsock4j.netty;

import io.netty.channel.IoOps;
import io.vsock4j.Readiness;

/**
 * The readiness a channel waits for, as {@link Readiness} bits, submitted to its registration with
 * {@link io.netty.channel.IoRegistration#submit}. The handler reports only these bits (and re-checks the
 * socket at once, so readiness that came before the submit is not lost). One instance per value.
 */
public final class VsockIoOps implements IoOps {
    private static final VsockIoOps[] ALL = new VsockIoOps[16];

    static {
        for (int i = 0; i < ALL.length; i++) {
            ALL[i] = new VsockIoOps(i);
        }
    }

    /** Nothing: the channel is registered but waits for nothing. */
    public static final VsockIoOps NONE = ALL[0];

    private final int readiness;

    private VsockIoOps(int readiness) {
        this.readiness = readiness;
    }

    /** The one instance for these {@link Readiness} bits. */
    public static VsockIoOps of(int readiness) {
        if ((readiness & ~0xF) != 0) {
            throw new IllegalArgumentException("not Readiness bits: 0x" + Integer.toHexString(readiness));
        }
        return ALL[readiness];
    }

    /** The {@link Readiness} bits waited for. */
    public int readiness() {
        return readiness;
    }

    @Override
    public String toString() {
        return "VsockIoOps[" + Readiness.toString(readiness) + "]";
    }
}
