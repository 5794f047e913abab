package io.vsock4j.transport.kernel;

import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.net.SocketException;

/**
 * Turns an errno the kernel returned into the exception {@link Errno} defines for it, so a kernel socket
 * fails with the same type and errno name as the Java engine in the same case. Numbers outside that
 * table (never expected from AF_VSOCK) become a {@link SocketException} naming the number. Stateless.
 */
final class KernelErrors {
    private KernelErrors() {
    }

    static IOException exception(int errno, String context) {
        Errno e = Errno.of(errno);
        return e != null ? e.exception(context) : new SocketException(describe(errno) + " (" + context + ")");
    }

    /** As {@link Errno#connectException}: a refused or reset connect is a ConnectException. */
    static IOException connectException(int errno, String context) {
        Errno e = Errno.of(errno);
        return e != null ? e.connectException(context) : exception(errno, context);
    }

    /** "ENAME: text" for the table's numbers, "errno N" otherwise. */
    static String describe(int errno) {
        Errno e = Errno.of(errno);
        return e != null ? e.name() + ": " + e.text() : "errno " + errno;
    }
}
