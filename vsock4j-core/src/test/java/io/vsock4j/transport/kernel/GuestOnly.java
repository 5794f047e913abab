package io.vsock4j.transport.kernel;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a guest-only test class before any of its tests runs, anywhere but inside the project's QEMU
 * guest. The class names (…GuestCases) keep surefire's default includes from picking them up on the
 * host, but a hand-written {@code -Dtest=} pattern does not: run that way, the interop cases once
 * started ncat and socat listening on the host's own kernel vsock, which reaches a hypervisor that is
 * not ours. The Java side was refused by {@link KernelGuard}; external tools need this check.
 */
public final class GuestOnly implements BeforeAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
        require(context.getRequiredTestClass().getSimpleName());
    }

    /** Throws unless this JVM runs inside the vsock4j test guest. */
    static void require(String what) {
        if (!KernelGuard.current().inGuest()) {
            throw new IllegalStateException(what + " runs only inside the vsock4j QEMU guest (guest/run.sh, through "
                    + "KernelInGuestTest); /proc/cmdline lacks " + KernelGuard.GUEST_MARKER
                    + ". Refusing before any kernel vsock socket or vsock tool is opened on this machine.");
        }
    }
}
