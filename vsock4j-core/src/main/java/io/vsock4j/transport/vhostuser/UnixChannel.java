package io.vsock4j.transport.vhostuser;

import io.vsock4j.internal.ffm.NativeErrors;
import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.file.Path;
import java.util.List;

/**
 * One connected AF_UNIX stream socket that carries bytes and, beside them, file descriptors
 * (SCM_RIGHTS). The descriptor is O_NONBLOCK; a read or write that would block polls the socket
 * together with an optional <em>wake</em> eventfd, so another thread ends a blocked call by signalling
 * that eventfd (the call throws {@link AsynchronousCloseException}), and an optional timeout bounds
 * every wait (a test frontend uses one; the backend waits without limit).
 *
 * <p>Descriptors the kernel attaches to the bytes read are handed to the caller, who owns them from
 * then on, even when the call then fails.
 *
 * <p>Thread-safety: one thread at a time reads or writes and closes; only the wake eventfd is touched
 * by others.
 */
final class UnixChannel implements AutoCloseable {
    /** No limit on a wait (poll's -1). */
    static final int NO_TIMEOUT = -1;

    private final int fd;
    private final EventFd wake;
    private final int timeoutMillis;
    private boolean closed;

    UnixChannel(int fd, EventFd wake, int timeoutMillis) {
        this.fd = fd;
        this.wake = wake;
        this.timeoutMillis = timeoutMillis;
    }

    /** Connects to the listening socket at {@code path}; each later wait lasts at most {@code timeoutMillis}. */
    static UnixChannel connect(Path path, int timeoutMillis) throws IOException {
        int s = (int) NativeErrors.check(UnixNative.unixStreamSocket(0), "socket(AF_UNIX)");
        int r = UnixNative.connect(s, path.toString());
        if (r == 0) {
            r = UnixNative.setNonBlocking(s);
        }
        if (r < 0) {
            UnixNative.close(s);
            throw NativeErrors.exception(-r, "connect " + path);
        }
        return new UnixChannel(s, null, timeoutMillis);
    }

    int fd() {
        return fd;
    }

    /**
     * Reads up to {@code len} bytes, waiting until at least one arrives. Returns how many, 0 at end of
     * stream. Received descriptors are appended to {@code fds}.
     */
    int read(byte[] dst, int off, int len, List<Integer> fds) throws IOException {
        while (true) {
            long n = UnixNative.recvWithFds(fd, dst, off, len, fds, UnixAbi.MSG_DONTWAIT);
            if (n >= 0) {
                return (int) n;
            }
            if (n == -Errno.EMSGSIZE.number()) {
                throw new IOException("more than " + UnixAbi.MAX_FDS + " descriptors in one message (MSG_CTRUNC)");
            }
            if (n != -Errno.EAGAIN.number() && n != -Errno.EINTR.number()) {
                throw NativeErrors.exception((int) -n, "recvmsg on unix socket " + fd);
            }
            await(UnixAbi.POLLIN, "read");
        }
    }

    /**
     * Reads exactly {@code len} bytes unless the stream ends first. Returns how many arrived: {@code len},
     * or fewer at end of stream.
     */
    int readFully(byte[] dst, int off, int len, List<Integer> fds) throws IOException {
        int got = 0;
        while (got < len) {
            int n = read(dst, off + got, len - got, fds);
            if (n == 0) {
                return got;
            }
            got += n;
        }
        return got;
    }

    /** Writes all of {@code data}, the descriptors (copies of them; the caller keeps its own) with the first byte. */
    void write(byte[] data, int[] fds) throws IOException {
        int sent = 0;
        int[] pending = fds;
        while (sent < data.length) {
            long n = UnixNative.sendWithFds(fd, data, sent, data.length - sent, pending,
                    UnixAbi.MSG_DONTWAIT | UnixAbi.MSG_NOSIGNAL);
            if (n >= 0) {
                sent += (int) n;
                pending = new int[0];
            } else if (n == -Errno.EAGAIN.number() || n == -Errno.EINTR.number()) {
                await(UnixAbi.POLLOUT, "write");
            } else {
                throw NativeErrors.exception((int) -n, "sendmsg on unix socket " + fd);
            }
        }
    }

    /** Waits until the socket is ready for {@code events}, the wake eventfd fires, or the timeout passes. */
    private void await(short events, String what) throws IOException {
        int[] fds = wake == null ? new int[] {fd} : new int[] {fd, wake.fd()};
        short[] ev = wake == null ? new short[] {events} : new short[] {events, UnixAbi.POLLIN};
        short[] rev = new short[fds.length];
        int r = UnixNative.poll(fds, ev, rev, timeoutMillis);
        if (r == 0) {
            throw new SocketTimeoutException(what + " on unix socket " + fd + " waited " + timeoutMillis + " ms");
        }
        if (r < 0 && r != -Errno.EINTR.number()) {
            throw NativeErrors.exception(-r, "poll unix socket " + fd);
        }
        if (wake != null && rev[1] != 0) {
            throw new AsynchronousCloseException();
        }
    }

    /** Closes the socket; later calls do nothing. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            UnixNative.close(fd);
        }
    }
}
