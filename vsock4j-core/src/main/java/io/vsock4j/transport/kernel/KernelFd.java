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
 * <p>Virtual threads park on a {@link Poller}; platform threads wait in poll(2) themselves
 * ({@link #awaitInKernel}), on the socket and on a wake-up eventfd that close and interrupt signal, so a
 * thread that waits long costs nothing while it waits.
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
    /**
     * The eventfd a platform thread's poll(2) watches beside {@link #fd}: made by the first such wait,
     * signalled once by {@link #close} (an interrupt closes too), closed with {@link #fd}. -1 until made.
     * So a socket that a platform thread ever waited on holds two descriptors; one that only virtual
     * threads or non-blocking calls used holds one.
     * Guarded by this; read by a waiter only after it checked {@link #closed} under the same monitor.
     */
    private int wakeFd = -1;

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
     * A platform thread waits in poll(2) itself, one thread fewer on every wakeup than the poller's
     * hand-off (it matters for throughput). It watches the socket and the wake-up eventfd, for as long as
     * the deadline allows: {@link #close} signals the eventfd, and so does an interrupt, through an
     * {@link InterruptHook} registered for the wait the way an interruptible channel registers itself.
     * Without an eventfd (the process is out of descriptors) it waits in slices of
     * {@link #SLICE_MILLIS} and looks at close and interrupt between them.
     */
    private void awaitInKernel(short events, long deadline, MemorySegment scratch) throws IOException {
        Thread me = Thread.currentThread();
        int wake = wakeFd(scratch);
        int millis = wake < 0 ? SLICE_MILLIS : -1;
        if (deadline != Deadlines.NONE) {
            long remaining = deadline - System.nanoTime();
            long left = Math.max(0, (remaining + 999_999) / 1_000_000);
            millis = (int) (millis < 0 ? Math.min(Integer.MAX_VALUE, left) : Math.min(millis, left));
        }
        if (millis != 0 && !me.isInterrupted()) {
            InterruptHook hook = new InterruptHook(this::signalWake);
            boolean interruptedInWait;
            hook.enter();
            try {
                begin();
                try {
                    Native.pollWaitOrWake(scratch, scratch.asSlice(32, 16), fd, events, wake, millis);
                } finally {
                    end();
                }
            } finally {
                interruptedInWait = hook.leave();
            }
            if (interruptedInWait) {
                throw Interruption.closeSocket(this::close, null);
            }
        }
        if (me.isInterrupted()) {
            throw Interruption.closeSocket(this::close, null);
        }
        ensureOpen();
    }

    /** The wake-up eventfd, made on first use; -1 when none can be made. Throws "Socket closed" after close. */
    private int wakeFd(MemorySegment scratch) throws SocketException {
        synchronized (this) {
            if (closed) {
                throw Errno.socketClosed();
            }
            if (wakeFd < 0) {
                int made = Native.eventfd(scratch);
                wakeFd = made < 0 ? -1 : made;
            }
            return wakeFd;
        }
    }

    /**
     * Wakes a platform thread in {@link #awaitInKernel}: the eventfd stays readable from now on. Under
     * the life lock's read side, so the number cannot be closed (and reused) under the write; after
     * close there is no number left to signal.
     */
    private void signalWake() {
        life.readLock().lock();
        try {
            int w;
            synchronized (this) {
                w = wakeFd;
            }
            if (w >= 0) {
                try (Arena a = Arena.ofConfined()) {
                    Native.eventfdSignal(Native.errnoCell(a), w);
                }
            }
        } finally {
            life.readLock().unlock();
        }
    }

    /**
     * The one documented hook a platform thread's interrupt offers a blocking call outside the JDK: an
     * {@link java.nio.channels.spi.AbstractInterruptibleChannel} between begin and end is closed by
     * {@link Thread#interrupt}. Closing this one only runs {@code onInterrupt} (signal the eventfd); the
     * socket is closed afterwards by the waiting thread itself, as {@code ClosedByInterruptException}
     * requires. One per wait: an interrupt closes it for good.
     */
    private static final class InterruptHook extends java.nio.channels.spi.AbstractInterruptibleChannel {
        private final Runnable onInterrupt;

        InterruptHook(Runnable onInterrupt) {
            this.onInterrupt = onInterrupt;
        }

        void enter() {
            begin();
        }

        /** Ends the wait; true when the thread was interrupted during it. */
        boolean leave() {
            try {
                end(true);
                return false;
            } catch (ClosedByInterruptException e) {
                return true;
            } catch (java.nio.channels.AsynchronousCloseException e) {
                return false; // not reached with end(true)
            }
        }

        @Override
        protected void implCloseChannel() {
            onInterrupt.run();
        }
    }

    /** The longest a platform thread without a wake-up eventfd sits in poll(2) before it looks at close and interrupt again. */
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
        signalWake();
        int w;
        synchronized (this) {
            w = wakeFd; // no new one after closed is set
        }
        life.writeLock().lock();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment errno = Native.errnoCell(a);
            Native.close(errno, fd); // EINTR/EIO here cannot be acted on; the number is gone
            if (w >= 0) {
                Native.close(errno, w);
                synchronized (this) {
                    wakeFd = -1; // an interrupt's late signalWake finds nothing to write to
                }
            }
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
