package io.vsock4j.transport.vhostuser;

import io.vsock4j.internal.ffm.Downcalls;
import io.vsock4j.spi.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.vsock4j.internal.ffm.Downcalls.criticalDowncall;
import static io.vsock4j.internal.ffm.Downcalls.downcall;
import static io.vsock4j.internal.ffm.Downcalls.rethrow;
import static io.vsock4j.internal.ffm.Downcalls.result;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The C library calls of the vhost-user backend, bound through java.lang.foreign (no JNI): AF_UNIX
 * stream sockets that carry descriptors (SCM_RIGHTS), mmap of the frontend's guest memory, eventfds,
 * poll, and memfd_create/ftruncate for a test frontend's guest RAM.
 *
 * <p>Every call captures {@code errno} and returns the C result, or {@code -errno} when it failed: the
 * convention of {@link Downcalls}, which binds the kernel transport's calls too. The capture cell is per
 * thread (a thread local), so callers pass no cell; the control plane this serves is not a hot path.
 * Structures (msghdr, sockaddr_un, pollfd) are built in a confined arena per call.
 * {@link io.vsock4j.internal.ffm.NativeErrors} turns a {@code -errno} into the IOException {@link Errno}
 * defines, with the errno name in its message.
 *
 * <p>Thread-safety: the handles are immutable; every method may be called from any thread.
 */
final class UnixNative {
    private static final ThreadLocal<MemorySegment> CELL =
            ThreadLocal.withInitial(() -> Downcalls.errnoCell(Arena.ofAuto()));

    private static final MethodHandle SOCKET = downcall("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = downcall("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = downcall("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = downcall("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT = downcall("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG = downcall("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDMSG = downcall("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FCNTL = downcall("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = downcall("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle EVENTFD = downcall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    /** Critical (heap arrays by address): an eventfd's counter is read and written O_NONBLOCK, never blocking. */
    private static final MethodHandle READ = criticalDowncall("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = criticalDowncall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle POLL = downcall("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MEMFD_CREATE = downcall("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FTRUNCATE = downcall("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));

    private UnixNative() {
    }

    private static MemorySegment cell() {
        return CELL.get();
    }

    /** socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | extraFlags, 0). */
    static int unixStreamSocket(int extraFlags) {
        MemorySegment e = cell();
        try {
            return result((int) SOCKET.invokeExact(e, UnixAbi.AF_UNIX,
                    UnixAbi.SOCK_STREAM | UnixAbi.SOCK_CLOEXEC | extraFlags, 0), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** bind(2) to a path (at most {@link UnixAbi#SUN_PATH_MAX_BYTES} bytes, checked by {@link #sockaddr}). */
    static int bind(int fd, String path) {
        MemorySegment e = cell();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = sockaddr(arena, path);
            return result((int) BIND.invokeExact(e, fd, addr, (int) addr.byteSize()), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int listen(int fd, int backlog) {
        MemorySegment e = cell();
        try {
            return result((int) LISTEN.invokeExact(e, fd, backlog), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int accept4(int fd, int flags) {
        MemorySegment e = cell();
        try {
            return result((int) ACCEPT4.invokeExact(e, fd, MemorySegment.NULL, MemorySegment.NULL, flags), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int connect(int fd, String path) {
        MemorySegment e = cell();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = sockaddr(arena, path);
            return result((int) CONNECT.invokeExact(e, fd, addr, (int) addr.byteSize()), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A struct sockaddr_un for {@code path}; a path too long for sun_path is an IllegalArgumentException. */
    private static MemorySegment sockaddr(Arena arena, String path) {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > UnixAbi.SUN_PATH_MAX_BYTES) {
            throw new IllegalArgumentException("socket path longer than " + UnixAbi.SUN_PATH_MAX_BYTES + " bytes: " + path);
        }
        MemorySegment addr = arena.allocate(UnixAbi.SOCKADDR_UN_BYTES, 8);
        addr.set(JAVA_SHORT, 0, (short) UnixAbi.AF_UNIX);
        MemorySegment.copy(bytes, 0, addr, JAVA_BYTE, UnixAbi.SUN_PATH_OFFSET, bytes.length);
        return addr;
    }

    /**
     * sendmsg(2) of {@code len} bytes from {@code src[off..]}, with {@code fds} (at most
     * {@link UnixAbi#MAX_FDS}) as one SCM_RIGHTS control message when there are any. Returns the bytes
     * sent, or -errno.
     */
    static long sendWithFds(int fd, byte[] src, int off, int len, int[] fds, int flags) {
        if (fds.length > UnixAbi.MAX_FDS) {
            throw new IllegalArgumentException(fds.length + " descriptors in one message; at most " + UnixAbi.MAX_FDS);
        }
        MemorySegment e = cell();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(Math.max(len, 1));
            MemorySegment.copy(src, off, data, JAVA_BYTE, 0, len);
            MemorySegment msg = msghdr(arena, data, len);
            if (fds.length > 0) {
                MemorySegment control = arena.allocate(UnixAbi.cmsgSpace(fds.length), 8);
                control.set(JAVA_LONG, 0, UnixAbi.cmsgLen(fds.length));
                control.set(JAVA_INT, UnixAbi.CMSG_LEVEL, UnixAbi.SOL_SOCKET);
                control.set(JAVA_INT, UnixAbi.CMSG_TYPE, UnixAbi.SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) {
                    control.set(JAVA_INT, UnixAbi.CMSG_HEADER_BYTES + 4L * i, fds[i]);
                }
                msg.set(ADDRESS, UnixAbi.MSGHDR_CONTROL, control);
                msg.set(JAVA_LONG, UnixAbi.MSGHDR_CONTROLLEN, control.byteSize());
            }
            return result((long) SENDMSG.invokeExact(e, fd, msg, flags), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * recvmsg(2) of up to {@code len} bytes into {@code dst[off..]}, with room for
     * {@link UnixAbi#MAX_FDS} descriptors; every descriptor received is appended to {@code fds} (the
     * caller owns and must close them). Returns the bytes read (0 at end of stream), or -errno; a
     * control message the buffer could not hold (MSG_CTRUNC: the kernel dropped descriptors) is
     * {@code -EMSGSIZE}, after the descriptors that did arrive were appended.
     */
    static long recvWithFds(int fd, byte[] dst, int off, int len, List<Integer> fds, int flags) {
        MemorySegment e = cell();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(Math.max(len, 1));
            MemorySegment msg = msghdr(arena, data, len);
            MemorySegment control = arena.allocate(UnixAbi.cmsgSpace(UnixAbi.MAX_FDS), 8);
            msg.set(ADDRESS, UnixAbi.MSGHDR_CONTROL, control);
            msg.set(JAVA_LONG, UnixAbi.MSGHDR_CONTROLLEN, control.byteSize());
            long n = result((long) RECVMSG.invokeExact(e, fd, msg, flags | UnixAbi.MSG_CMSG_CLOEXEC), e);
            if (n < 0) {
                return n;
            }
            collectFds(control, msg.get(JAVA_LONG, UnixAbi.MSGHDR_CONTROLLEN), fds);
            MemorySegment.copy(data, JAVA_BYTE, 0, dst, off, (int) n);
            boolean truncated = (msg.get(JAVA_INT, UnixAbi.MSGHDR_FLAGS) & UnixAbi.MSG_CTRUNC) != 0;
            return truncated ? -Errno.EMSGSIZE.number() : n;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Walks the control messages the kernel wrote (CMSG_FIRSTHDR / CMSG_NXTHDR) and takes SCM_RIGHTS fds. */
    private static void collectFds(MemorySegment control, long controlLen, List<Integer> fds) {
        long at = 0;
        while (at + UnixAbi.CMSG_HEADER_BYTES <= controlLen) {
            long cmsgLen = control.get(JAVA_LONG, at);
            if (cmsgLen < UnixAbi.CMSG_HEADER_BYTES || at + cmsgLen > controlLen) {
                return;
            }
            if (control.get(JAVA_INT, at + UnixAbi.CMSG_LEVEL) == UnixAbi.SOL_SOCKET
                    && control.get(JAVA_INT, at + UnixAbi.CMSG_TYPE) == UnixAbi.SCM_RIGHTS) {
                long count = (cmsgLen - UnixAbi.CMSG_HEADER_BYTES) / 4;
                for (long i = 0; i < count; i++) {
                    fds.add(control.get(JAVA_INT, at + UnixAbi.CMSG_HEADER_BYTES + 4 * i));
                }
            }
            at += UnixAbi.cmsgAlign(cmsgLen);
        }
    }

    /** A struct msghdr with no name and one iovec over {@code data[0..len)}. */
    private static MemorySegment msghdr(Arena arena, MemorySegment data, int len) {
        MemorySegment iov = arena.allocate(UnixAbi.IOVEC_BYTES, 8);
        iov.set(ADDRESS, 0, data);
        iov.set(JAVA_LONG, 8, len);
        MemorySegment msg = arena.allocate(UnixAbi.MSGHDR_BYTES, 8);
        msg.set(ADDRESS, UnixAbi.MSGHDR_IOV, iov);
        msg.set(JAVA_LONG, UnixAbi.MSGHDR_IOVLEN, 1L);
        return msg;
    }

    static int close(int fd) {
        MemorySegment e = cell();
        try {
            return result((int) CLOSE.invokeExact(e, fd), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sets O_NONBLOCK on {@code fd}'s open file description. */
    static int setNonBlocking(int fd) {
        MemorySegment e = cell();
        try {
            int fl = result((int) FCNTL.invokeExact(e, fd, UnixAbi.F_GETFL, 0), e);
            if (fl < 0 || (fl & UnixAbi.O_NONBLOCK) != 0) {
                return fl < 0 ? fl : 0;
            }
            return result((int) FCNTL.invokeExact(e, fd, UnixAbi.F_SETFL, fl | UnixAbi.O_NONBLOCK), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_SHARED, fd, offset): the mapping's address, or -errno
     * (a failed mmap returns MAP_FAILED, which is never a valid address here).
     */
    static long mmapShared(int fd, long size, long offset) {
        MemorySegment e = cell();
        try {
            MemorySegment at = (MemorySegment) MMAP.invokeExact(e, MemorySegment.NULL, size,
                    UnixAbi.PROT_READ | UnixAbi.PROT_WRITE, UnixAbi.MAP_SHARED, fd, offset);
            return at.address() == UnixAbi.MAP_FAILED ? -Downcalls.errno(e) : at.address();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int munmap(long address, long size) {
        MemorySegment e = cell();
        try {
            return result((int) MUNMAP.invokeExact(e, MemorySegment.ofAddress(address), size), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK). */
    static int eventfd() {
        MemorySegment e = cell();
        try {
            return result((int) EVENTFD.invokeExact(e, 0, UnixAbi.EFD_CLOEXEC | UnixAbi.EFD_NONBLOCK), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Reads an eventfd's 8-byte counter (resetting it) into {@code out[0]}; the descriptor must be
     * O_NONBLOCK. Returns 8, or -errno (-EAGAIN when the counter is zero).
     */
    static long readCounter(int fd, long[] out) {
        MemorySegment e = cell();
        try {
            return result((long) READ.invokeExact(e, fd, MemorySegment.ofArray(out), (long) UnixAbi.EVENTFD_COUNTER_BYTES), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Adds {@code value} to an O_NONBLOCK eventfd's counter. Returns 8, or -errno (-EAGAIN on overflow). */
    static long writeCounter(int fd, long value) {
        MemorySegment e = cell();
        try {
            long[] in = {value};
            return result((long) WRITE.invokeExact(e, fd, MemorySegment.ofArray(in), (long) UnixAbi.EVENTFD_COUNTER_BYTES), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * poll(2) on {@code fds} for the matching {@code events}, blocking up to {@code timeoutMillis} (-1:
     * no limit). The revents land in {@code revents}; returns how many descriptors are ready (0 on
     * timeout), or -errno.
     */
    static int poll(int[] fds, short[] events, short[] revents, int timeoutMillis) {
        MemorySegment e = cell();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pfds = arena.allocate((long) UnixAbi.POLLFD_BYTES * fds.length, 8);
            for (int i = 0; i < fds.length; i++) {
                pfds.set(JAVA_INT, (long) UnixAbi.POLLFD_BYTES * i, fds[i]);
                pfds.set(JAVA_SHORT, (long) UnixAbi.POLLFD_BYTES * i + 4, events[i]);
            }
            int r = result((int) POLL.invokeExact(e, pfds, (long) fds.length, timeoutMillis), e);
            for (int i = 0; i < fds.length; i++) {
                revents[i] = pfds.get(JAVA_SHORT, (long) UnixAbi.POLLFD_BYTES * i + 6);
            }
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** memfd_create(name, MFD_CLOEXEC): anonymous shared memory, as QEMU's memory-backend-memfd makes. */
    static int memfdCreate(String name) {
        MemorySegment e = cell();
        try (Arena arena = Arena.ofConfined()) {
            return result((int) MEMFD_CREATE.invokeExact(e, arena.allocateFrom(name), UnixAbi.MFD_CLOEXEC), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int ftruncate(int fd, long size) {
        MemorySegment e = cell();
        try {
            return result((int) FTRUNCATE.invokeExact(e, fd, size), e);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
