package io.vsock4j.transport.kernel;

/**
 * The numbers of Linux's x86-64 user ABI that the kernel transport passes to system calls, each with the
 * header it mirrors. Only constants; no thread concerns. Errno numbers are not here: they live in
 * {@link io.vsock4j.spi.Errno}, the one table (compare a result with {@code -Errno.EAGAIN.number()}).
 */
final class LinuxAbi {
    private LinuxAbi() {
    }

    // include/linux/socket.h
    static final int AF_VSOCK = 40;
    static final int SOL_SOCKET = 1;
    static final int MSG_PEEK = 0x2;
    static final int MSG_TRUNC = 0x20;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_EOR = 0x80;
    static final int MSG_WAITALL = 0x100;
    static final int MSG_NOSIGNAL = 0x4000;

    // include/linux/net.h, asm-generic/fcntl.h
    static final int SOCK_STREAM = 1;
    static final int SOCK_SEQPACKET = 5;
    static final int SOCK_NONBLOCK = 0x800;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int O_RDONLY = 0;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    static final int F_GETFL = 3;
    static final int F_SETFL = 4;

    // asm-generic/socket.h
    static final int SO_ERROR = 4;
    static final int SO_RCVLOWAT = 18;

    // include/uapi/linux/vm_sockets.h (level AF_VSOCK)
    static final int SO_VM_SOCKETS_BUFFER_SIZE = 0;
    static final int SO_VM_SOCKETS_BUFFER_MIN_SIZE = 1;
    static final int SO_VM_SOCKETS_BUFFER_MAX_SIZE = 2;
    /** The 64-bit "old" option: a struct __kernel_old_timeval {long tv_sec; long tv_usec}. */
    static final int SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD = 6;
    /** _IO(7, 0xb9), on /dev/vsock. */
    static final long IOCTL_VM_SOCKETS_GET_LOCAL_CID = 0x7b9;
    static final int SOCKADDR_VM_BYTES = 16;

    // asm-generic/ioctls.h, linux/sockios.h
    static final long SIOCINQ = 0x541B;
    static final long SIOCOUTQ = 0x5411;

    // include/uapi/linux/eventpoll.h, asm-generic/poll.h
    static final int EPOLL_CLOEXEC = 0x80000;
    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLL_CTL_MOD = 3;
    static final int EPOLLIN = 0x1;
    static final int EPOLLOUT = 0x4;
    static final int EPOLLERR = 0x8;
    static final int EPOLLHUP = 0x10;
    static final int EPOLLONESHOT = 1 << 30;
    /** struct epoll_event is packed on x86-64: u32 events, u64 data. */
    static final int EPOLL_EVENT_BYTES = 12;
    static final short POLLIN = 0x1;
    static final short POLLOUT = 0x4;
    static final short POLLERR = 0x8;
    static final short POLLHUP = 0x10;
}
