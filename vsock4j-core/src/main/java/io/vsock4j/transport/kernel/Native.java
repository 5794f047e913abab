package io.vsock4j.transport.kernel;

import io.vsock4j.internal.ffm.Downcalls;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.atomic.AtomicLong;

import static io.vsock4j.internal.ffm.Downcalls.criticalDowncall;
import static io.vsock4j.internal.ffm.Downcalls.downcall;
import static io.vsock4j.internal.ffm.Downcalls.rethrow;
import static io.vsock4j.internal.ffm.Downcalls.result;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The C library calls of the kernel transport, bound through java.lang.foreign (no JNI). Every call
 * captures {@code errno} into a caller-supplied cell ({@link #errnoCell}) and returns the C result, or
 * {@code -errno} when it failed, so callers branch on one number and allocate nothing. The binding and
 * that convention are {@link Downcalls}', shared with the vhost-user backend; {@code -errno} becomes an
 * exception through {@link io.vsock4j.internal.ffm.NativeErrors}.
 *
 * <p>{@code send} and {@code recv} on O_NONBLOCK descriptors never block, so they are bound
 * {@linkplain Linker.Option#critical critical} and copy straight between the kernel and a Java
 * {@code byte[]}. Everything else is bound normally: {@code epoll_wait} blocks (poller threads only), a
 * SEQPACKET send runs in blocking mode ({@link #sendBlocking}), and the rest take native memory anyway.
 *
 * <p>Thread-safety: the handles are immutable and callable from any thread; an errno cell must be used
 * by one thread at a time.
 */
final class Native {
    private static final MethodHandle SOCKET = downcall("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = downcall("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = downcall("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = downcall("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT = downcall("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SEND = criticalDowncall("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    /** send(2) that may block in the kernel (a SEQPACKET socket in blocking mode): not critical, native memory only. */
    private static final MethodHandle SEND_BLOCKING = downcall("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle RECV = criticalDowncall("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle RECVMSG = downcall("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SHUTDOWN = downcall("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = downcall("getsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SETSOCKOPT = downcall("setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKNAME = downcall("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle GETPEERNAME = downcall("getpeername", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle IOCTL = downcall("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FCNTL = downcall("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle OPEN = downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle POLL = downcall("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle EVENTFD = downcall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle WRITE = downcall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle EPOLL_CREATE1 = downcall("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = downcall("epoll_ctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EPOLL_WAIT = downcall("epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));

    /** How many socket(2) and connect(2) calls this JVM made: the guard's tests prove it stopped at zero. */
    private static final AtomicLong SOCKET_CALLS = new AtomicLong();
    private static final AtomicLong CONNECT_CALLS = new AtomicLong();

    private Native() {
    }

    /** A cell for the captured errno, owned by {@code arena}; use it from one thread at a time. */
    static MemorySegment errnoCell(Arena arena) {
        return Downcalls.errnoCell(arena);
    }

    static long socketCalls() {
        return SOCKET_CALLS.get();
    }

    static long connectCalls() {
        return CONNECT_CALLS.get();
    }

    static int socket(MemorySegment e, int domain, int type, int protocol) {
        SOCKET_CALLS.incrementAndGet();
        try {
            return result((int) SOCKET.invokeExact(e, domain, type, protocol), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int bind(MemorySegment e, int fd, MemorySegment addr) {
        try {
            return result((int) BIND.invokeExact(e, fd, addr, (int) addr.byteSize()), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int listen(MemorySegment e, int fd, int backlog) {
        try {
            return result((int) LISTEN.invokeExact(e, fd, backlog), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int accept4(MemorySegment e, int fd, int flags) {
        try {
            return result((int) ACCEPT4.invokeExact(e, fd, MemorySegment.NULL, MemorySegment.NULL, flags), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int connect(MemorySegment e, int fd, MemorySegment addr) {
        CONNECT_CALLS.incrementAndGet();
        try {
            return result((int) CONNECT.invokeExact(e, fd, addr, (int) addr.byteSize()), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** send(2) from {@code buf}, which may be a heap segment. */
    static long send(MemorySegment e, int fd, MemorySegment buf, int flags) {
        try {
            return result((long) SEND.invokeExact(e, fd, buf, buf.byteSize(), flags), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** send(2) that may block; {@code buf} must be native memory. */
    static long sendBlocking(MemorySegment e, int fd, MemorySegment buf, int flags) {
        try {
            return result((long) SEND_BLOCKING.invokeExact(e, fd, buf, buf.byteSize(), flags), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** recv(2) into {@code buf}, which may be a heap segment. */
    static long recv(MemorySegment e, int fd, MemorySegment buf, int flags) {
        try {
            return result((long) RECV.invokeExact(e, fd, buf, buf.byteSize(), flags), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** recvmsg(2); {@code msghdr} and everything it points to must be native memory. */
    static long recvmsg(MemorySegment e, int fd, MemorySegment msghdr, int flags) {
        try {
            return result((long) RECVMSG.invokeExact(e, fd, msghdr, flags), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int shutdown(MemorySegment e, int fd, int how) {
        try {
            return result((int) SHUTDOWN.invokeExact(e, fd, how), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int close(MemorySegment e, int fd) {
        try {
            return result((int) CLOSE.invokeExact(e, fd), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** getsockopt(2) into {@code value}; returns the length the kernel wrote, or -errno. */
    static int getsockopt(MemorySegment e, int fd, int level, int name, MemorySegment value, MemorySegment lenCell) {
        lenCell.set(JAVA_INT, 0, (int) value.byteSize());
        try {
            int r = result((int) GETSOCKOPT.invokeExact(e, fd, level, name, value, lenCell), e);
            return r < 0 ? r : lenCell.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int setsockopt(MemorySegment e, int fd, int level, int name, MemorySegment value) {
        try {
            return result((int) SETSOCKOPT.invokeExact(e, fd, level, name, value, (int) value.byteSize()), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int getsockname(MemorySegment e, int fd, MemorySegment addr, MemorySegment lenCell) {
        lenCell.set(JAVA_INT, 0, (int) addr.byteSize());
        try {
            return result((int) GETSOCKNAME.invokeExact(e, fd, addr, lenCell), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int getpeername(MemorySegment e, int fd, MemorySegment addr, MemorySegment lenCell) {
        lenCell.set(JAVA_INT, 0, (int) addr.byteSize());
        try {
            return result((int) GETPEERNAME.invokeExact(e, fd, addr, lenCell), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int ioctl(MemorySegment e, int fd, long request, MemorySegment arg) {
        try {
            return result((int) IOCTL.invokeExact(e, fd, request, arg), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int fcntl(MemorySegment e, int fd, int cmd, int arg) {
        try {
            return result((int) FCNTL.invokeExact(e, fd, cmd, arg), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int open(MemorySegment e, MemorySegment path, int flags) {
        try {
            return result((int) OPEN.invokeExact(e, path, flags), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** poll(2) on one descriptor with a zero timeout: the revents, or -errno. */
    static int pollNow(MemorySegment e, MemorySegment pollfd, int fd, short events) {
        pollfd.set(JAVA_INT, 0, fd);
        pollfd.set(ValueLayout.JAVA_SHORT, 4, events);
        pollfd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
        try {
            int r = result((int) POLL.invokeExact(e, pollfd, 1L, 0), e);
            return r < 0 ? r : pollfd.get(ValueLayout.JAVA_SHORT, 6) & 0xFFFF;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * poll(2) on {@code fd} for {@code events} and on {@code wakeFd} for POLLIN, in {@code pollfds} (16
     * bytes), blocking up to {@code timeoutMillis}. A negative {@code wakeFd} is left out by poll(2)
     * itself. Returns the revents of {@code fd}, 0 when only the wake descriptor fired or the time ran
     * out, or -errno.
     */
    static int pollWaitOrWake(MemorySegment e, MemorySegment pollfds, int fd, short events, int wakeFd, int timeoutMillis) {
        pollfds.set(JAVA_INT, 0, fd);
        pollfds.set(ValueLayout.JAVA_SHORT, 4, events);
        pollfds.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
        pollfds.set(JAVA_INT, 8, wakeFd);
        pollfds.set(ValueLayout.JAVA_SHORT, 12, LinuxAbi.POLLIN);
        pollfds.set(ValueLayout.JAVA_SHORT, 14, (short) 0);
        try {
            int r = result((int) POLL.invokeExact(e, pollfds, 2L, timeoutMillis), e);
            return r <= 0 ? r : pollfds.get(ValueLayout.JAVA_SHORT, 6) & 0xFFFF;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** eventfd(2), close-on-exec and non-blocking; the descriptor or -errno. */
    static int eventfd(MemorySegment e) {
        try {
            return result((int) EVENTFD.invokeExact(e, 0, LinuxAbi.O_CLOEXEC | LinuxAbi.O_NONBLOCK), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Adds 1 to an eventfd's counter, which makes it readable until read (never, here): 8 bytes or -errno. */
    static long eventfdSignal(MemorySegment e, int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(JAVA_LONG);
            one.set(JAVA_LONG, 0, 1L);
            return result((long) WRITE.invokeExact(e, fd, one, 8L), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int epollCreate(MemorySegment e) {
        try {
            return result((int) EPOLL_CREATE1.invokeExact(e, LinuxAbi.EPOLL_CLOEXEC), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** epoll_ctl(2) with an event whose data is the descriptor itself. */
    static int epollCtl(MemorySegment e, int epfd, int op, int fd, int events, MemorySegment event) {
        event.set(JAVA_INT, 0, events);
        event.set(JAVA_LONG.withByteAlignment(1), 4, fd);
        try {
            return result((int) EPOLL_CTL.invokeExact(e, epfd, op, fd, event), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** epoll_wait(2), blocking: platform threads only. */
    static int epollWait(MemorySegment e, int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        try {
            return result((int) EPOLL_WAIT.invokeExact(e, epfd, events, maxEvents, timeoutMillis), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The descriptor in the data field of the i-th epoll_event. */
    static int epollEventFd(MemorySegment events, int i) {
        return (int) events.get(JAVA_LONG.withByteAlignment(1), (long) i * LinuxAbi.EPOLL_EVENT_BYTES + 4);
    }
}
