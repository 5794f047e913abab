package io.vsock4j.transport.kernel;

import io.vsock4j.spi.Errno;
import io.vsock4j.spi.Interruption;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.SocketException;
import java.nio.channels.ClosedByInterruptException;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One kernel socket descriptor and its lifetime: who may use the number, how a waiting thread parks, and
 * how close wakes it. The descriptor is non-blocking, so a system call on it is short; callers bracket
 * each call with {@link #begin()} / {@link #end()}, and {@link #close()} closes the number only when no
 * call is in flight, so a number can never be reused under a running call.
 *
 * <p>Virtual threads park on a {@link Poller}; platform threads wait in poll(2) in short slices
 * ({@link #awaitInKernel}).
 *
 * <p>Threads: any. At most one reader and one writer wait at a time (the socket serializes each
 * direction), recorded in {@link #readWaiter} / {@link #writeWaiter} so close can unpark them. The
 * handshake is two volatiles: a waiter publishes itself then reads {@link #closed}; close publishes
 * {@code closed} then reads the waiters, so one of them always sees the other.
 */
final class KernelFd {
    final int fd;
    /** Read side: a system call on {@link #fd} is running. Write side: close(2). */
    private final ReentrantReadWriteLock life = new ReentrantReadWriteLock();
    private volatile boolean closed;
    private volatile Thread readWaiter;
    private volatile Thread writeWaiter;

    KernelFd(int fd) {
        this.fd = fd;
    }

    /** Marks a system call on the descriptor as running; throws "Socket closed" after close. */
    void begin() throws SocketException {
        life.readLock().lock();
        if (closed) {
            life.readLock().unlock();
            throw Errno.socketClosed();
        }
    }

    void end() {
        life.readLock().unlock();
    }

    boolean isClosed() {
        return closed;
    }

    void ensureOpen() throws SocketException {
        if (closed) {
            throw Errno.socketClosed();
        }
    }

    /**
     * Parks the calling thread until {@code poller} reports the descriptor ready, the deadline passes,
     * the socket is closed or the thread is interrupted. Returns normally on readiness, on a spurious
     * wakeup and at the deadline (the caller retries its call and checks the deadline itself).
     *
     * @param deadline a {@link System#nanoTime()} value, or {@link Deadlines#NONE}
     * @param scratch  the direction's errno cell (offset 0) and epoll_event space (offset 16)
     * @throws SocketException             "Socket closed" when closed, before or while waiting
     * @throws ClosedByInterruptException  when interrupted: the socket is closed, the interrupt status kept
     */
    void await(Poller poller, long deadline, MemorySegment scratch) throws IOException {
        Thread me = Thread.currentThread();
        if (!me.isVirtual()) {
            awaitInKernel(poller == Poller.READ ? LinuxAbi.POLLIN : LinuxAbi.POLLOUT, deadline, scratch);
            return;
        }
        boolean read = poller == Poller.READ;
        if (read) {
            readWaiter = me;
        } else {
            writeWaiter = me;
        }
        try {
            begin();
            try {
                poller.register(fd, scratch.asSlice(0, 16), scratch.asSlice(16, LinuxAbi.EPOLL_EVENT_BYTES));
            } finally {
                end();
            }
            try {
                if (!closed && !me.isInterrupted()) {
                    if (deadline == Deadlines.NONE) {
                        LockSupport.park(this);
                    } else {
                        long remaining = deadline - System.nanoTime();
                        if (remaining > 0) {
                            LockSupport.parkNanos(this, remaining);
                        }
                    }
                }
            } finally {
                poller.deregister(fd);
            }
        } finally {
            if (read) {
                readWaiter = null;
            } else {
                writeWaiter = null;
            }
        }
        if (me.isInterrupted()) {
            throw Interruption.closeSocket(this::close, null);
        }
        ensureOpen();
    }

    /**
     * A platform thread waits in poll(2) itself, in slices of at most {@link #SLICE_MILLIS}: one thread
     * fewer on every wakeup than the poller's hand-off (it matters for throughput), at the price of a
     * close or interrupt being noticed within a slice rather than at once.
     */
    private void awaitInKernel(short events, long deadline, MemorySegment scratch) throws IOException {
        Thread me = Thread.currentThread();
        int millis = SLICE_MILLIS;
        if (deadline != Deadlines.NONE) {
            long remaining = deadline - System.nanoTime();
            millis = (int) Math.min(SLICE_MILLIS, Math.max(0, (remaining + 999_999) / 1_000_000));
        }
        if (millis > 0 && !me.isInterrupted()) {
            begin();
            try {
                Native.pollWait(scratch, scratch.asSlice(32, 8), fd, events, millis);
            } finally {
                end();
            }
        }
        if (me.isInterrupted()) {
            throw Interruption.closeSocket(this::close, null);
        }
        ensureOpen();
    }

    /** The longest a platform thread sits in poll(2) before it looks at close and interrupt again. */
    static final int SLICE_MILLIS = 50;

    /** Scratch for one direction: errno cell, epoll_event, pollfd. */
    static MemorySegment directionScratch() {
        return Arena.ofAuto().allocate(48, 8);
    }

    /**
     * Closes: wakes the waiters ("Socket closed"), then, with no system call in flight, close(2).
     * {@code beforeClose} runs once, first (the socket uses it to shut a connection down so a sender
     * blocked inside the kernel returns). Idempotent.
     */
    void close(Runnable beforeClose) {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (beforeClose != null) {
            beforeClose.run();
        }
        LockSupport.unpark(readWaiter);
        LockSupport.unpark(writeWaiter);
        life.writeLock().lock();
        try (Arena a = Arena.ofConfined()) {
            Native.close(Native.errnoCell(a), fd); // EINTR/EIO here cannot be acted on; the number is gone
        } finally {
            life.writeLock().unlock();
        }
    }

    void close() {
        close(null);
    }

    @Override
    public String toString() {
        return "fd " + fd + (closed ? " (closed)" : "");
    }
}
