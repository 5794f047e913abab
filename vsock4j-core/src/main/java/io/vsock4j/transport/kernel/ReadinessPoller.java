package io.vsock4j.transport.kernel;

import io.vsock4j.Readiness;
import io.vsock4j.internal.ffm.NativeErrors;
import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Tells the {@link Readiness.Listener}s of kernel sockets when their ready set may have changed: one
 * epoll instance where each watched descriptor stays registered, edge-triggered, for EPOLLIN, EPOLLOUT
 * and EPOLLRDHUP, and one platform daemon thread in {@code epoll_wait} that calls the descriptor's
 * listener on every event. Edge-triggered is enough: the listener only says "ask again"
 * ({@link io.vsock4j.SocketHandle#readyOps()} polls the descriptor itself), and the kernel reports an
 * edge on every wake-up of the socket (data, credit, state change, error).
 *
 * <p>Separate from {@link Poller}, whose registrations are one-shot and belong to one blocked thread;
 * a descriptor may be in both. Also keeps the timer that reports a non-blocking connect's deadline.
 *
 * <p>Threads: {@link #watch} and {@link #forget} from any thread (a socket forgets its descriptor before
 * close(2), so a reused number never reaches an old listener); listeners run on the poller thread.
 */
final class ReadinessPoller implements Runnable {
    private static final int MAX_EVENTS = 64;
    /** include/uapi/linux/eventpoll.h. */
    private static final int EPOLLRDHUP = 0x2000;
    private static final int EPOLLET = 1 << 31;
    private static final int EPOLL_CTL_DEL = 2;

    static final ReadinessPoller INSTANCE = new ReadinessPoller();

    private final ConcurrentHashMap<Integer, Readiness.Listener> listeners = new ConcurrentHashMap<>();
    private final Object startLock = new Object();
    /** Guarded by startLock; -1 until started. */
    private int epfd = -1;
    /** Guarded by startLock; made on first use. */
    private ScheduledExecutorService timer;

    private ReadinessPoller() {
    }

    /** Tells {@code listener} of every event on {@code fd} from now on, replacing an earlier listener. */
    void watch(int fd, Readiness.Listener listener) throws IOException {
        int ep = epfd();
        boolean known = listeners.put(fd, listener) != null;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment event = a.allocate(LinuxAbi.EPOLL_EVENT_BYTES, 8);
            int interest = LinuxAbi.EPOLLIN | LinuxAbi.EPOLLOUT | EPOLLRDHUP | EPOLLET;
            int r = Native.epollCtl(Native.errnoCell(a), ep, known ? LinuxAbi.EPOLL_CTL_MOD : LinuxAbi.EPOLL_CTL_ADD, fd, interest, event);
            if (r == -Errno.EEXIST.number()) {
                r = Native.epollCtl(Native.errnoCell(a), ep, LinuxAbi.EPOLL_CTL_MOD, fd, interest, event);
            }
            if (r < 0) {
                listeners.remove(fd, listener);
                throw NativeErrors.exception(-r, "epoll_ctl (readiness) on descriptor " + fd);
            }
        }
    }

    /** Stops telling anyone about {@code fd}; call before the descriptor is closed. */
    void forget(int fd) {
        if (listeners.remove(fd) == null) {
            return;
        }
        int ep;
        synchronized (startLock) {
            ep = epfd;
        }
        try (Arena a = Arena.ofConfined()) {
            // ENOENT or EBADF are fine: close(2) removes a descriptor from every epoll set anyway.
            Native.epollCtl(Native.errnoCell(a), ep, EPOLL_CTL_DEL, fd, 0, a.allocate(LinuxAbi.EPOLL_EVENT_BYTES, 8));
        }
    }

    /** Runs {@code task} once after {@code delayNanos} on the poller's timer thread. */
    void schedule(Runnable task, long delayNanos) {
        ScheduledExecutorService t;
        synchronized (startLock) {
            if (timer == null) {
                timer = Executors.newSingleThreadScheduledExecutor(
                        r -> Thread.ofPlatform().name("vsock4j-kernel-readiness-timer").daemon(true).unstarted(r));
            }
            t = timer;
        }
        t.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
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
                Thread.ofPlatform().name("vsock4j-kernel-readiness-poller").daemon(true).start(this);
            }
            return epfd;
        }
    }

    /** The poller thread: wait, then tell each ready descriptor's listener. */
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
                if (n != -Errno.EINTR.number()) {
                    // Cannot happen with a valid epoll descriptor; tell everyone to look rather than strand them.
                    System.err.println("vsock4j-kernel-readiness-poller: epoll_wait failed: " + NativeErrors.describe(-n));
                    listeners.values().forEach(Readiness.Listener::readinessChanged);
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
                continue;
            }
            for (int i = 0; i < n; i++) {
                Readiness.Listener l = listeners.get(Native.epollEventFd(ready, i));
                if (l != null) {
                    l.readinessChanged();
                }
            }
        }
    }
}
