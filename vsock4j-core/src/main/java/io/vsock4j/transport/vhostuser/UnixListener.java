package io.vsock4j.transport.vhostuser;

import io.vsock4j.internal.ffm.NativeErrors;
import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * A listening AF_UNIX stream socket at a path in the file system, where QEMU connects
 * ({@code -chardev socket,path=...}). Binding creates the socket file; a socket file left behind by a
 * process that died (nobody accepts on it: connect is refused) is removed first, while a live socket
 * (connect succeeds) or any other kind of file at the path is refused. Closing removes the file.
 *
 * <p>Thread-safety: {@link #accept} runs on one thread (the backend's); the wake eventfd it polls is how
 * another thread ends a blocked accept.
 */
final class UnixListener implements AutoCloseable {
    /** Connections the kernel queues while the backend serves one frontend; QEMU makes one. */
    private static final int BACKLOG_CONNECTIONS = 4;

    private final int fd;
    private final Path path;
    private boolean closed;

    private UnixListener(int fd, Path path) {
        this.fd = fd;
        this.path = path;
    }

    /** Binds and listens at {@code path} (see the class comment for what may already be there). */
    static UnixListener bind(Path path) throws IOException {
        String name = path.toString();
        if (name.getBytes(StandardCharsets.UTF_8).length > UnixAbi.SUN_PATH_MAX_BYTES) {
            throw Errno.ENAMETOOLONG.exception("unix socket path over " + UnixAbi.SUN_PATH_MAX_BYTES + " bytes: " + path);
        }
        removeStale(path);
        int s = (int) NativeErrors.check(UnixNative.unixStreamSocket(UnixAbi.SOCK_NONBLOCK), "socket(AF_UNIX)");
        int r = UnixNative.bind(s, name);
        if (r == 0) {
            r = UnixNative.listen(s, BACKLOG_CONNECTIONS);
            if (r < 0) {
                Files.deleteIfExists(path);
            }
        }
        if (r < 0) {
            UnixNative.close(s);
            throw NativeErrors.exception(-r, "bind " + path);
        }
        return new UnixListener(s, path);
    }

    private static void removeStale(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & UnixAbi.S_IFMT) != UnixAbi.S_IFSOCK) {
            throw new FileAlreadyExistsException(path.toString(), null, "exists and is not a socket; not replacing it");
        }
        int s = (int) NativeErrors.check(UnixNative.unixStreamSocket(0), "socket(AF_UNIX)");
        int r;
        try {
            r = UnixNative.connect(s, path.toString());
        } finally {
            UnixNative.close(s);
        }
        if (r == 0) {
            throw Errno.EADDRINUSE.exception("a live process accepts on " + path);
        }
        if (r != -Errno.ECONNREFUSED.number()) {
            throw NativeErrors.exception(-r, "probing existing socket " + path);
        }
        Files.delete(path);
    }

    Path path() {
        return path;
    }

    /**
     * Waits for a frontend and returns its connected, non-blocking, close-on-exec descriptor, or -1 when
     * {@code wake} fired first.
     */
    int accept(EventFd wake) throws IOException {
        while (true) {
            int c = UnixNative.accept4(fd, UnixAbi.SOCK_NONBLOCK | UnixAbi.SOCK_CLOEXEC);
            if (c >= 0) {
                return c;
            }
            if (c != -Errno.EAGAIN.number() && c != -Errno.EINTR.number() && c != -Errno.ECONNABORTED.number()) {
                throw NativeErrors.exception(-c, "accept on " + path);
            }
            short[] rev = new short[2];
            int r = UnixNative.poll(new int[] {fd, wake.fd()}, new short[] {UnixAbi.POLLIN, UnixAbi.POLLIN}, rev,
                    UnixChannel.NO_TIMEOUT);
            if (r < 0 && r != -Errno.EINTR.number()) {
                throw NativeErrors.exception(-r, "poll listener " + path);
            }
            if (rev[1] != 0) {
                return -1;
            }
        }
    }

    /** Stops listening and removes the socket file; later calls do nothing. */
    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            UnixNative.close(fd);
            Files.deleteIfExists(path);
        }
    }
}
