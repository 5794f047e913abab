package io.vsock4j.internal.ffm;

import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.net.SocketException;

/**
 * Turns an errno a libc call returned into the exception {@link Errno} defines for it, so a kernel
 * socket and the vhost-user backend fail with the same type and errno name as the Java engine in the same
 * case. Numbers outside that table (never expected) become a {@link SocketException} naming the number.
 * Stateless.
 */
public final class NativeErrors {
    private NativeErrors() {
    }

    public static IOException exception(int errno, String context) {
        Errno e = Errno.of(errno);
        return e != null ? e.exception(context) : new SocketException("errno " + errno + " (" + context + ")");
    }

    /** As {@link Errno#connectException}: a refused or reset connect is a ConnectException. */
    public static IOException connectException(int errno, String context) {
        Errno e = Errno.of(errno);
        return e != null ? e.connectException(context) : exception(errno, context);
    }

    /** A call's result when it is not negative; otherwise the exception for {@code -result}. */
    public static long check(long result, String context) throws IOException {
        if (result < 0) {
            throw exception((int) -result, context);
        }
        return result;
    }

    /** "ENAME" for the table's numbers, "errno N" otherwise. */
    public static String name(int errno) {
        Errno e = Errno.of(errno);
        return e != null ? e.name() : "errno " + errno;
    }

    /** "ENAME: text" for the table's numbers, "errno N" otherwise. */
    public static String describe(int errno) {
        Errno e = Errno.of(errno);
        return e != null ? e.name() + ": " + e.text() : "errno " + errno;
    }
}
