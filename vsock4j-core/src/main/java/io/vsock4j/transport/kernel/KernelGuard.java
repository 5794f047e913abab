package io.vsock4j.transport.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The safety rule of the kernel transport: it opens AF_VSOCK sockets (which can connect, listen and
 * send) only where that cannot reach a hypervisor nobody here owns. Allowed when the kernel command line
 * carries {@value #GUEST_MARKER} (the project's QEMU test guest, guest/run.sh) or when a person who
 * knows the machine is theirs sets {@code -D}{@value #ALLOW_PROPERTY}{@code =true}. Otherwise every
 * attempt fails loudly with an {@link IOException} that says why, before any socket(2) call.
 * Immutable and thread-safe.
 */
public final class KernelGuard {
    /** The kernel command-line word guest/run.sh always passes. */
    public static final String GUEST_MARKER = "vsock4j.guest=1";
    /** The system property that allows kernel sockets outside the test guest. */
    public static final String ALLOW_PROPERTY = "vsock4j.kernel.allow";

    private final boolean inGuest;
    private final boolean allowedByProperty;

    private KernelGuard(boolean inGuest, boolean allowedByProperty) {
        this.inGuest = inGuest;
        this.allowedByProperty = allowedByProperty;
    }

    /** The guard of this JVM: /proc/cmdline and the system property, read now. */
    public static KernelGuard current() {
        String cmdline;
        try {
            cmdline = Files.readString(Path.of("/proc/cmdline"), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            cmdline = "";
        }
        return of(cmdline, System.getProperty(ALLOW_PROPERTY));
    }

    /** A guard for a given kernel command line and property value (tests). */
    public static KernelGuard of(String kernelCmdline, String allowProperty) {
        boolean guest = Arrays.asList(kernelCmdline.trim().split("\\s+")).contains(GUEST_MARKER);
        return new KernelGuard(guest, "true".equalsIgnoreCase(allowProperty == null ? "" : allowProperty.trim()));
    }

    public boolean allowed() {
        return inGuest || allowedByProperty;
    }

    /** True inside the project's QEMU guest. */
    public boolean inGuest() {
        return inGuest;
    }

    /** Throws, explaining why, unless kernel sockets are allowed here. */
    public void check(String what) throws IOException {
        if (!allowed()) {
            throw new IOException("vsock4j refuses to " + what + " through the kernel's AF_VSOCK: this is not the "
                    + "vsock4j test guest (/proc/cmdline lacks " + GUEST_MARKER + ") and -D" + ALLOW_PROPERTY
                    + "=true is not set. On a VM the kernel's vsock reaches a real hypervisor and its host; set "
                    + ALLOW_PROPERTY + "=true only on a machine whose vsock peers are yours, or use the Java "
                    + "loopback (provider \"java\").");
        }
    }

    @Override
    public String toString() {
        return "KernelGuard[" + (inGuest ? "in the test guest" : allowedByProperty ? "allowed by " + ALLOW_PROPERTY : "refusing") + "]";
    }
}
