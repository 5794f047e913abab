package io.vsock4j.transport.kernel;

import io.vsock4j.MessageFlags;
import io.vsock4j.MessageInfo;
import io.vsock4j.SocketType;
import io.vsock4j.internal.ffm.NativeErrors;
import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The data calls of a {@link KernelSocket}: send(2), recv(2) for streams and recvmsg(2) for SEQPACKET,
 * each retried through the {@link Poller} on EAGAIN until the deadline. Translates between the kernel's
 * answers and the {@link io.vsock4j.SocketHandle} contract: EOF is -1 (the kernel's 0), MSG_DONTWAIT
 * with nothing to do is 0 (the kernel's EAGAIN), a blocking call's timeout is EAGAIN as
 * {@link java.net.SocketTimeoutException}. Stateless; the caller holds the direction's lock, which owns
 * the scratch memory passed in.
 */
final class KernelIo {
    /** recvmsg's struct msghdr on x86-64: name, namelen, iov, iovlen, control, controllen, flags. */
    private static final long MSG_IOV = 16;
    private static final long MSG_IOVLEN = 24;
    private static final long MSG_FLAGS = 48;
    private static final long IOVEC = 56;

    private KernelIo() {
    }

    static int send(KernelSocket s, KernelFd fd, MemorySegment scratch, byte[] src, int off, int len, int flags,
                    long deadline) throws IOException {
        if (s.socketType() == SocketType.SEQPACKET) {
            return sendMessage(s, fd, scratch, src, off, len, flags);
        }
        return sendStream(s, fd, scratch, MemorySegment.ofArray(src), off, len, flags, deadline);
    }

    /**
     * A stream send of {@code len} bytes of {@code all} from {@code off}: an array's segment, or a direct
     * buffer's native memory, which then goes to the kernel with no copy on the Java side at all.
     */
    static int sendStream(KernelSocket s, KernelFd fd, MemorySegment scratch, MemorySegment all, long off, int len,
                          int flags, long deadline) throws IOException {
        boolean dontWait = (flags & MessageFlags.MSG_DONTWAIT) != 0;
        int sysFlags = LinuxAbi.MSG_NOSIGNAL | (flags & (MessageFlags.MSG_EOR | MessageFlags.MSG_DONTWAIT));
        int done = 0;
        while (true) {
            long r;
            fd.begin();
            try {
                r = Native.send(scratch, fd.fd, all.asSlice(off + done, len - done), sysFlags);
            } finally {
                fd.end();
            }
            if (r >= 0) {
                done += (int) r;
                if (done == len || dontWait) {
                    return done;
                }
                continue;
            }
            int errno = (int) -r;
            if (errno == Errno.EAGAIN.number() && !dontWait) {
                if (Deadlines.passed(deadline)) {
                    throw KernelSocket.timeout("send to " + s.remoteAddress() + " timed out", done);
                }
                fd.await(Poller.WRITE, deadline, scratch);
                continue;
            }
            if (errno == Errno.EAGAIN.number()) {
                return done;
            }
            if (done > 0) {
                return done; // a short count; the next call reports why
            }
            throw NativeErrors.exception(errno, "send to " + s.remoteAddress());
        }
    }

    /**
     * One SEQPACKET message, sent whole by a send(2) in blocking mode (see {@link KernelSocket}) from a
     * native copy; MSG_DONTWAIT passes through. A close wakes it with EPIPE, reported as the close.
     */
    private static int sendMessage(KernelSocket s, KernelFd fd, MemorySegment scratch, byte[] src, int off, int len,
                                   int flags) throws IOException {
        int sysFlags = LinuxAbi.MSG_NOSIGNAL | (flags & (MessageFlags.MSG_EOR | MessageFlags.MSG_DONTWAIT));
        long r;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment copy = a.allocate(Math.max(len, 1));
            MemorySegment.copy(src, off, copy, JAVA_BYTE, 0, len);
            fd.begin();
            try {
                r = Native.sendBlocking(scratch, fd.fd, copy.asSlice(0, len), sysFlags);
            } finally {
                fd.end();
            }
        }
        if (r >= 0) {
            return (int) r;
        }
        int errno = (int) -r;
        fd.ensureOpen();
        if (errno == Errno.EAGAIN.number()) {
            return 0; // MSG_DONTWAIT and no room
        }
        if (errno == Errno.ENOMEM.number()) {
            // Linux 6.1's vsock_connectible_sendmsg reports every enqueue error as ENOMEM; the one a
            // SEQPACKET enqueue refuses a message for is EMSGSIZE (larger than the peer's buffer).
            throw Errno.EMSGSIZE.exception(len + "-byte message to " + s.remoteAddress()
                    + " (the kernel said ENOMEM: larger than the peer's buffer)");
        }
        throw NativeErrors.exception(errno, "send to " + s.remoteAddress());
    }

    static int receiveStream(KernelSocket s, KernelFd fd, MemorySegment scratch, byte[] dst, int off, int len,
                             int flags, long deadline, MessageInfo info) throws IOException {
        return receiveStream(s, fd, scratch, MemorySegment.ofArray(dst), off, len, flags, deadline, info);
    }

    /** A stream receive into {@code len} bytes of {@code all} from {@code off}: an array's segment or native memory. */
    static int receiveStream(KernelSocket s, KernelFd fd, MemorySegment scratch, MemorySegment all, long off, int len,
                             int flags, long deadline, MessageInfo info) throws IOException {
        boolean dontWait = (flags & MessageFlags.MSG_DONTWAIT) != 0;
        boolean peek = (flags & MessageFlags.MSG_PEEK) != 0;
        boolean waitAll = (flags & MessageFlags.MSG_WAITALL) != 0 && !peek;
        // A non-blocking recv returns what is queued even below SO_RCVLOWAT; poll(2) honours it, so a
        // blocking read with a low-water mark asks poll first, as the kernel's blocking recv would wait.
        boolean lowat = s.rcvLowat() > 1 && !dontWait && !peek && len > 1;
        int sysFlags = LinuxAbi.MSG_DONTWAIT | (flags & MessageFlags.MSG_PEEK);
        int done = 0;
        while (true) {
            if (lowat && done == 0 && !readable(fd, scratch)) {
                if (Deadlines.passed(deadline)) {
                    throw Errno.EAGAIN.exception("receive from " + s.remoteAddress() + " timed out");
                }
                fd.await(Poller.READ, deadline, scratch);
                continue;
            }
            long r;
            fd.begin();
            try {
                r = Native.recv(scratch, fd.fd, all.asSlice(off + done, len - done), sysFlags);
            } finally {
                fd.end();
            }
            if (r > 0) {
                done += (int) r;
                if (!waitAll || done == len) {
                    return filled(info, done, 0);
                }
                continue;
            }
            if (r == 0) {
                return len == 0 ? filled(info, 0, 0) : done > 0 ? filled(info, done, 0) : -1;
            }
            int errno = (int) -r;
            if (errno != Errno.EAGAIN.number()) {
                if (done > 0) {
                    return filled(info, done, 0);
                }
                if (endedConnection(s, errno)) {
                    return -1;
                }
                throw NativeErrors.exception(errno, "receive from " + s.remoteAddress());
            }
            if (dontWait) {
                return filled(info, done, 0);
            }
            if (Deadlines.passed(deadline)) {
                if (done > 0) {
                    return filled(info, done, 0);
                }
                throw Errno.EAGAIN.exception("receive from " + s.remoteAddress() + " timed out");
            }
            fd.await(Poller.READ, deadline, scratch);
        }
    }

    /**
     * One SEQPACKET message through recvmsg(2), always asking the kernel for MSG_TRUNC so the real length
     * is known; returns it only when the caller asked for MSG_TRUNC, as recv(2) does.
     *
     * @param buffers {msghdr+iovec, data buffer of at least len bytes}
     */
    static int receiveMessage(KernelSocket s, KernelFd fd, MemorySegment scratch, MemorySegment[] buffers, byte[] dst,
                              int off, int len, int flags, long deadline, MessageInfo info) throws IOException {
        boolean dontWait = (flags & MessageFlags.MSG_DONTWAIT) != 0;
        int sysFlags = LinuxAbi.MSG_DONTWAIT | LinuxAbi.MSG_TRUNC | (flags & MessageFlags.MSG_PEEK);
        MemorySegment msg = buffers[0];
        MemorySegment data = buffers[1];
        while (true) {
            msg.fill((byte) 0);
            msg.set(ADDRESS, MSG_IOV, msg.asSlice(IOVEC, 16));
            msg.set(JAVA_LONG, MSG_IOVLEN, 1L);
            msg.set(ADDRESS, IOVEC, data);
            msg.set(JAVA_LONG, IOVEC + 8, (long) len);
            long r;
            fd.begin();
            try {
                r = Native.recvmsg(scratch, fd.fd, msg, sysFlags);
            } finally {
                fd.end();
            }
            if (r > 0) {
                int real = (int) r;
                int copied = Math.min(real, len);
                MemorySegment.copy(data, JAVA_BYTE, 0, dst, off, copied);
                int outFlags = msg.get(JAVA_INT, MSG_FLAGS) & (MessageFlags.MSG_TRUNC | MessageFlags.MSG_EOR);
                if (info != null) {
                    info.set(real, outFlags);
                }
                return (flags & MessageFlags.MSG_TRUNC) != 0 ? real : copied;
            }
            if (r == 0) {
                return len == 0 ? filled(info, 0, 0) : -1;
            }
            int errno = (int) -r;
            if (errno != Errno.EAGAIN.number()) {
                if (endedConnection(s, errno)) {
                    return -1;
                }
                if (errno == Errno.ENOMEM.number() && (flags & MessageFlags.MSG_PEEK) != 0) {
                    // Linux 6.1's virtio_transport_seqpacket_dequeue refuses MSG_PEEK (EOPNOTSUPP), and
                    // __vsock_seqpacket_recvmsg reports that as ENOMEM; the message stays queued.
                    throw Errno.EOPNOTSUPP.exception("MSG_PEEK on a SEQPACKET socket: this kernel cannot peek messages");
                }
                throw NativeErrors.exception(errno, "receive from " + s.remoteAddress());
            }
            if (dontWait) {
                return filled(info, 0, 0);
            }
            if (Deadlines.passed(deadline)) {
                throw Errno.EAGAIN.exception("receive from " + s.remoteAddress() + " timed out");
            }
            fd.await(Poller.READ, deadline, scratch);
        }
    }

    /**
     * ENOTCONN from recv on a socket that was connected means the connection is over: Linux returns 0
     * (EOF) once the peer is done, but a local shutdown(2) after that clears SOCK_DONE (vsock_shutdown) and
     * later reads say ENOTCONN. The Java engine, and the SocketHandle contract, call that EOF.
     */
    private static boolean endedConnection(KernelSocket s, int errno) {
        return errno == Errno.ENOTCONN.number() && s.connectedFlag();
    }

    /** poll(2) for POLLIN now: data (at least SO_RCVLOWAT), EOF or an error is there. */
    private static boolean readable(KernelFd fd, MemorySegment scratch) throws IOException {
        fd.begin();
        try {
            int revents = Native.pollNow(scratch, scratch.asSlice(32, 8), fd.fd, LinuxAbi.POLLIN);
            return revents < 0 || (revents & (LinuxAbi.POLLIN | LinuxAbi.POLLERR | LinuxAbi.POLLHUP)) != 0;
        } finally {
            fd.end();
        }
    }

    private static int filled(MessageInfo info, int n, int outFlags) {
        if (info != null) {
            info.set(n, outFlags);
        }
        return n;
    }

    /**
     * SIOCINQ / SIOCOUTQ. Kernels before 6.8 do not implement them for vsock (ENOTTY/EOPNOTSUPP): then
     * SIOCINQ falls back to peeking at what is queued (up to 64 KiB) and SIOCOUTQ answers 0.
     */
    static int queued(KernelSocket s, KernelFd fd, long request) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = Native.errnoCell(a);
            MemorySegment value = a.allocate(JAVA_INT);
            fd.begin();
            try {
                int r = Native.ioctl(e, fd.fd, request, value);
                if (r >= 0) {
                    return value.get(JAVA_INT, 0);
                }
                if (!s.connectedFlag()) {
                    return 0;
                }
                if (-r != Errno.ENOTTY.number() && -r != Errno.EOPNOTSUPP.number()) {
                    throw NativeErrors.exception(-r, (request == LinuxAbi.SIOCINQ ? "SIOCINQ" : "SIOCOUTQ") + " on " + fd);
                }
                if (request != LinuxAbi.SIOCINQ) {
                    return 0;
                }
                MemorySegment peek = a.allocate(64 * 1024);
                int peekFlags = LinuxAbi.MSG_PEEK | LinuxAbi.MSG_DONTWAIT
                        | (s.socketType() == SocketType.SEQPACKET ? LinuxAbi.MSG_TRUNC : 0);
                long n = Native.recv(e, fd.fd, peek, peekFlags);
                return n > 0 ? (int) n : 0;
            } finally {
                fd.end();
            }
        }
    }
}
