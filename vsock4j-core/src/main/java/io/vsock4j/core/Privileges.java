package io.vsock4j.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether this process may bind reserved vsock ports (up to 1023), as the kernel decides it: the
 * CAP_NET_BIND_SERVICE capability (bit 10 of CapEff in /proc/self/status). Read once per machine built.
 */
final class Privileges {
    private static final int CAP_NET_BIND_SERVICE = 10;

    private Privileges() {
    }

    static boolean canBindReservedPorts() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    long caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                    return (caps & (1L << CAP_NET_BIND_SERVICE)) != 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or no /proc: fall back to the conservative answer.
        }
        return false;
    }
}
