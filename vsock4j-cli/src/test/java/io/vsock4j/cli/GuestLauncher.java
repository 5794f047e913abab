package io.vsock4j.cli;

/**
 * How the command line's guest tests start {@code ./vsock} inside the project's QEMU guest: a guest/run.sh
 * {@code --env} that runs the launcher's JVMs interpreted. A {@code vsock} process runs its start-up code
 * (picocli's model, the FFM linker's first downcalls) once and then moves data in system calls, so under
 * TCG it starts in about half the time of the JIT's default and sooner than with C1 alone, and what it
 * does cannot change (guest/README.md, "JVMs in the guest", has the measurements).
 */
final class GuestLauncher {
    /** For guest/run.sh's {@code --env}. */
    static final String INTERPRETED = "VSOCK4J_JAVA_OPTS=-Xint -XX:+UseSerialGC";

    private GuestLauncher() {
    }
}
