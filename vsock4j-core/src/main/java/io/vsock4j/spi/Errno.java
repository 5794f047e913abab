package io.vsock4j.spi;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;

/**
 * The kernel's error numbers that vsock4j knows (those AF_VSOCK returns, those the kernel
 * transport's epoll, ioctl and fcntl calls handle, and those of the vhost-user backend's AF_UNIX
 * sockets, mmap and eventfds), and the one table that turns each into a Java
 * exception. Every transport reports failures through here, so the same case gives the same exception
 * type and the same errno name in its message whether the kernel or the Java engine produced it.
 * Immutable; any thread.
 *
 * <p>Numbers are Linux's (include/uapi/asm-generic/errno-base.h and errno.h), so a kernel transport can
 * map the {@code errno} it captured with {@link #of(int)} and compare a system call's result with
 * {@link #number()}; no other class declares an errno number.
 *
 * <p>Use after close is not an errno case in Java's socket API: {@link #socketClosed()} builds the
 * JDK's "Socket closed" for every transport.
 */
public enum Errno {
    EPERM(1, "Operation not permitted"),
    ENOENT(2, "No such file or directory"),
    EINTR(4, "Interrupted system call"),
    EBADF(9, "Bad file descriptor"),
    EAGAIN(11, "Resource temporarily unavailable"),
    ENOMEM(12, "Cannot allocate memory"),
    EACCES(13, "Permission denied"),
    EFAULT(14, "Bad address"),
    EEXIST(17, "File exists"),
    ENODEV(19, "No such device"),
    EINVAL(22, "Invalid argument"),
    ENFILE(23, "Too many open files in system"),
    EMFILE(24, "Too many open files"),
    ENOTTY(25, "Inappropriate ioctl for device"),
    EPIPE(32, "Broken pipe"),
    ENAMETOOLONG(36, "File name too long"),
    EPROTO(71, "Protocol error"),
    ENOTSOCK(88, "Socket operation on non-socket"),
    EMSGSIZE(90, "Message too long"),
    EPROTOTYPE(91, "Protocol wrong type for socket"),
    ENOPROTOOPT(92, "Protocol not available"),
    ESOCKTNOSUPPORT(94, "Socket type not supported"),
    EOPNOTSUPP(95, "Operation not supported"),
    EAFNOSUPPORT(97, "Address family not supported by protocol"),
    EADDRINUSE(98, "Address already in use"),
    EADDRNOTAVAIL(99, "Cannot assign requested address"),
    ENETUNREACH(101, "Network is unreachable"),
    ECONNABORTED(103, "Software caused connection abort"),
    ECONNRESET(104, "Connection reset by peer"),
    EISCONN(106, "Transport endpoint is already connected"),
    ENOTCONN(107, "Transport endpoint is not connected"),
    ESHUTDOWN(108, "Cannot send after transport endpoint shutdown"),
    ETIMEDOUT(110, "Connection timed out"),
    ECONNREFUSED(111, "Connection refused"),
    EHOSTUNREACH(113, "No route to host"),
    EALREADY(114, "Operation already in progress"),
    EINPROGRESS(115, "Operation now in progress");

    private final int number;
    private final String text;

    Errno(int number, String text) {
        this.number = number;
        this.text = text;
    }

    /** The Linux errno value. */
    public int number() {
        return number;
    }

    /** strerror's text. */
    public String text() {
        return text;
    }

    /** The entry for a Linux errno value, or null when the table does not know it. */
    public static Errno of(int number) {
        for (Errno e : values()) {
            if (e.number == number) {
                return e;
            }
        }
        return null;
    }

    /**
     * The Java exception for this errno. The message is {@code "ENAME: text (context)"}, so a user who
     * knows the kernel recognizes the case and the address involved.
     *
     * <ul>
     *   <li>connect refused or reset (ECONNREFUSED, ECONNRESET during connect): use {@link #connectException}</li>
     *   <li>EADDRINUSE, EADDRNOTAVAIL, EACCES: {@link BindException}</li>
     *   <li>ETIMEDOUT, EAGAIN (a blocking call's timeout): {@link SocketTimeoutException}</li>
     *   <li>ENODEV, ENETUNREACH, EHOSTUNREACH (no transport, no route): {@link NoRouteToHostException}</li>
     *   <li>everything else: {@link SocketException}</li>
     * </ul>
     */
    public IOException exception(String context) {
        String message = message(context);
        return switch (this) {
            case EADDRINUSE, EADDRNOTAVAIL, EACCES -> new BindException(message);
            case ETIMEDOUT, EAGAIN -> new SocketTimeoutException(message);
            case ENODEV, ENETUNREACH, EHOSTUNREACH -> new NoRouteToHostException(message);
            case ECONNREFUSED -> new ConnectException(message);
            default -> new SocketException(message);
        };
    }

    /**
     * The exception for a failed connect: ECONNRESET and ECONNREFUSED become {@link ConnectException}
     * (as java.net.Socket reports a refused connection), a timeout {@link SocketTimeoutException}, and
     * the rest as {@link #exception}.
     */
    public IOException connectException(String context) {
        return switch (this) {
            case ECONNRESET, ECONNREFUSED, EPROTO -> new ConnectException(message(context));
            default -> exception(context);
        };
    }

    /**
     * The exception for an operation on a socket that is closed, or closed while the operation
     * blocked: a {@link SocketException} with java.net.Socket's own message, "Socket closed", so code
     * written against the JDK's sockets recognizes it. (The kernel would say EBADF for a closed
     * descriptor; Java's socket API never does.)
     */
    public static SocketException socketClosed() {
        return new SocketException("Socket closed");
    }

    /** {@code "ENAME: text (context)"}. */
    public String message(String context) {
        return name() + ": " + text + (context == null || context.isEmpty() ? "" : " (" + context + ")");
    }
}
