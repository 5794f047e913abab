package io.vsock4j.transport.vhostuser;

import io.vsock4j.internal.ffm.NativeErrors;
import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Linux eventfd: a kernel-held 64-bit counter that one side adds to ({@link #signal}) and the other
 * reads and resets ({@link #drain}), and that poll(2) reports readable while it is not zero. vhost-user
 * uses one per ring and direction: the frontend sends a <em>kick</em> eventfd it signals when the driver
 * made buffers available, and a <em>call</em> eventfd the backend signals when it put buffers on the used
 * ring (QEMU turns that into the guest's interrupt). The value written carries no meaning.
 *
 * <p>Descriptors are always non-blocking: the backend's own ones are created with EFD_NONBLOCK, and one
 * received from the frontend is switched to O_NONBLOCK when adopted, so {@link #drain} never blocks;
 * wait for readiness by polling {@link #fd()}.
 *
 * <p>Thread-safety: {@link #signal} and {@link #drain} may be called from any thread. {@link #close} is
 * idempotent, but a thread still using the descriptor when another closes it could reach a recycled
 * descriptor number, so whoever owns an EventFd (for rings: the backend) closes it only after every
 * user stopped; a device therefore stops using the kick and call of a ring before
 * {@link VhostUserDevice#queueStopped} returns.
 */
public final class EventFd implements AutoCloseable {
    private final AtomicInteger fd;

    private EventFd(int fd) {
        this.fd = new AtomicInteger(fd);
    }

    /** A new eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK). */
    public static EventFd create() throws IOException {
        return new EventFd((int) NativeErrors.check(UnixNative.eventfd(), "eventfd"));
    }

    /** Takes ownership of a descriptor received from the frontend and makes it non-blocking. */
    static EventFd adopt(int fd) throws IOException {
        EventFd e = new EventFd(fd);
        int r = UnixNative.setNonBlocking(fd);
        if (r < 0) {
            e.close();
            throw NativeErrors.exception(-r, "fcntl O_NONBLOCK on received eventfd " + fd);
        }
        return e;
    }

    /** The descriptor number, for poll or epoll; -1 once closed. */
    public int fd() {
        return fd.get();
    }

    /** Adds 1 to the counter, waking a poller. A counter already at its maximum stays signalled. */
    public void signal() throws IOException {
        int f = open();
        long r = UnixNative.writeCounter(f, 1);
        if (r < 0 && r != -Errno.EAGAIN.number()) {
            throw NativeErrors.exception((int) -r, "write eventfd " + f);
        }
    }

    /** Reads and resets the counter: its value, or 0 when it was not signalled. */
    public long drain() throws IOException {
        int f = open();
        long[] value = new long[1];
        long r = UnixNative.readCounter(f, value);
        if (r == -Errno.EAGAIN.number()) {
            return 0;
        }
        NativeErrors.check(r, "read eventfd " + f);
        return value[0];
    }

    private int open() throws IOException {
        int f = fd.get();
        if (f < 0) {
            throw new IOException("eventfd closed");
        }
        return f;
    }

    /** Closes the descriptor; later calls do nothing. */
    @Override
    public void close() {
        int f = fd.getAndSet(-1);
        if (f >= 0) {
            UnixNative.close(f);
        }
    }

    @Override
    public String toString() {
        return "EventFd[" + fd.get() + "]";
    }
}
