package io.vsock4j.transport.kernel;

import io.vsock4j.internal.ffm.NativeErrors;
import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Parks threads, virtual or not, until a non-blocking kernel socket is ready, instead of letting them
 * block inside a system call (which would hold a virtual thread's carrier). One epoll instance per
 * direction ({@link #READ} for EPOLLIN, {@link #WRITE} for EPOLLOUT), each with one platform daemon
 * thread in {@code epoll_wait}; a waiter registers its descriptor EPOLLONESHOT and parks, and the
 * poller thread unparks it when the kernel reports the descriptor ready (or in error).
 *
 * <p>The registry allows one waiter per descriptor per direction, which the sockets guarantee by
 * serializing readers and writers. Wakeups may be spurious (a stale one-shot event of an earlier wait):
 * every waiter re-checks by retrying its call. The poller threads live as long as the JVM, as the
 * JDK's own pollers do; they start on first use.
 */
final class Poller implements Runnable {
    private static final int MAX_EVENTS = 64;

    /** Waiting for readable: recv, accept. */
    static final Poller READ = new Poller("vsock4j-kernel-read-poller", LinuxAbi.EPOLLIN);
    /** Waiting for writable: send, connect. */
    static final Poller WRITE = new Poller("vsock4j-kernel-write-poller", LinuxAbi.EPOLLOUT);

    private final String name;
    private final int events;
    /** Descriptor to its waiting thread; written by waiters, consumed by the poller thread. */
    private final ConcurrentHashMap<Integer, Thread> waiters = new ConcurrentHashMap<>();
    private final Object startLock = new Object();
    /** Guarded by startLock; -1 until started. */
    private int epfd = -1;

    private Poller(String name, int events) {
        this.name = name;
        this.events = events;
    }

    /**
     * Registers the calling thread as the waiter for {@code fd} and arms the descriptor. The caller
     * must keep {@code fd} open until it called {@link #deregister}, then park.
     */
    void register(int fd, MemorySegment errno, MemorySegment eventScratch) throws IOException {
        int ep = epfd();
        waiters.put(fd, Thread.currentThread());
        int interest = events | LinuxAbi.EPOLLONESHOT;
        int r = Native.epollCtl(errno, ep, LinuxAbi.EPOLL_CTL_MOD, fd, interest, eventScratch);
        if (r == -Errno.ENOENT.number()) {
            r = Native.epollCtl(errno, ep, LinuxAbi.EPOLL_CTL_ADD, fd, interest, eventScratch);
        }
        if (r < 0) {
            waiters.remove(fd, Thread.currentThread());
            throw NativeErrors.exception(-r, "epoll_ctl on descriptor " + fd);
        }
    }

    /** Forgets the calling thread's registration, if the poller has not consumed it. */
    void deregister(int fd) {
        waiters.remove(fd, Thread.currentThread());
    }

    private int epfd() throws IOException {
        synchronized (startLock) {
            if (epfd < 0) {
                try (Arena a = Arena.ofConfined()) {
                    int fd = Native.epollCreate(Native.errnoCell(a));
                    if (fd < 0) {
                        throw NativeErrors.exception(-fd, "epoll_create1");
                    }
                    epfd = fd;
                }
                Thread t = Thread.ofPlatform().name(name).daemon(true).unstarted(this);
                t.start();
            }
            return epfd;
        }
    }

    /** The poller thread: wait, then unpark each ready descriptor's waiter. */
    @Override
    public void run() {
        int ep;
        synchronized (startLock) {
            ep = epfd;
        }
        Arena arena = Arena.ofConfined();
        MemorySegment errno = Native.errnoCell(arena);
        MemorySegment ready = arena.allocate((long) MAX_EVENTS * LinuxAbi.EPOLL_EVENT_BYTES, 8);
        while (true) {
            int n = Native.epollWait(errno, ep, ready, MAX_EVENTS, -1);
            if (n < 0) {
                if (n == -Errno.EINTR.number()) {
                    continue;
                }
                // Cannot happen with a valid epoll descriptor; fail loudly rather than strand waiters.
                System.err.println(name + ": epoll_wait failed: " + NativeErrors.describe(-n) + "; waking all waiters");
                waiters.values().forEach(LockSupport::unpark);
                LockSupport.parkNanos(1_000_000);
                continue;
            }
            for (int i = 0; i < n; i++) {
                Thread t = waiters.remove(Native.epollEventFd(ready, i));
                if (t != null) {
                    LockSupport.unpark(t);
                }
            }
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
