package io.vsock4j.transport.vhostuser;

/**
 * The numbers of Linux's x86-64 user ABI that the vhost-user backend passes to system calls, each with
 * the header it mirrors, and the byte layouts of the structures it builds in native memory. Only
 * constants; no thread concerns. Errno numbers live in {@link io.vsock4j.spi.Errno}.
 */
final class UnixAbi {
    private UnixAbi() {
    }

    // include/linux/socket.h
    static final int AF_UNIX = 1;
    static final int SOL_SOCKET = 1;
    /** cmsg_type of a control message that carries file descriptors. */
    static final int SCM_RIGHTS = 1;
    static final int MSG_CTRUNC = 0x8;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_NOSIGNAL = 0x4000;
    /** recvmsg flag: received descriptors are close-on-exec. */
    static final int MSG_CMSG_CLOEXEC = 0x40000000;

    // include/linux/net.h, asm-generic/fcntl.h
    static final int SOCK_STREAM = 1;
    static final int SOCK_NONBLOCK = 0x800;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int O_NONBLOCK = 0x800;
    static final int F_GETFL = 3;
    static final int F_SETFL = 4;

    // include/uapi/linux/eventfd.h
    static final int EFD_NONBLOCK = 0x800;
    static final int EFD_CLOEXEC = 0x80000;
    /** An eventfd counter is a host-order u64: every read and write moves exactly 8 bytes. */
    static final int EVENTFD_COUNTER_BYTES = 8;

    // include/uapi/linux/memfd.h
    static final int MFD_CLOEXEC = 0x1;

    // include/uapi/asm-generic/mman-common.h, mman.h
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int MAP_SHARED = 0x1;
    /** mmap's MAP_FAILED, (void *) -1. */
    static final long MAP_FAILED = -1L;

    // asm-generic/poll.h
    static final short POLLIN = 0x1;
    static final short POLLOUT = 0x4;
    static final short POLLERR = 0x8;
    static final short POLLHUP = 0x10;
    static final short POLLNVAL = 0x20;
    /** struct pollfd: int fd, short events, short revents. */
    static final int POLLFD_BYTES = 8;

    // include/uapi/linux/un.h: struct sockaddr_un { sa_family_t sun_family; char sun_path[108]; }
    static final int SOCKADDR_UN_BYTES = 110;
    static final int SUN_PATH_OFFSET = 2;
    /** sun_path holds 108 bytes including the terminating NUL. */
    static final int SUN_PATH_MAX_BYTES = 107;

    // include/linux/socket.h on x86-64: struct msghdr (56 bytes) and struct iovec (16 bytes)
    static final int MSGHDR_BYTES = 56;
    static final int MSGHDR_IOV = 16;
    static final int MSGHDR_IOVLEN = 24;
    static final int MSGHDR_CONTROL = 32;
    static final int MSGHDR_CONTROLLEN = 40;
    static final int MSGHDR_FLAGS = 48;
    static final int IOVEC_BYTES = 16;

    // struct cmsghdr on x86-64: size_t cmsg_len, int cmsg_level, int cmsg_type, then the data
    static final int CMSG_HEADER_BYTES = 16;
    static final int CMSG_LEVEL = 8;
    static final int CMSG_TYPE = 12;
    /** CMSG_ALIGN: control messages start on size_t boundaries. */
    static final int CMSG_ALIGN_BYTES = 8;
    /** The most descriptors one vhost-user message carries (VHOST_MEMORY_BASELINE_NREGIONS in QEMU). */
    static final int MAX_FDS = 8;

    /** CMSG_ALIGN(n). */
    static long cmsgAlign(long n) {
        return (n + CMSG_ALIGN_BYTES - 1) & -CMSG_ALIGN_BYTES;
    }

    /** CMSG_SPACE for {@code fds} descriptors. */
    static int cmsgSpace(int fds) {
        return CMSG_HEADER_BYTES + (int) cmsgAlign(fds * 4L);
    }

    /** CMSG_LEN for {@code fds} descriptors. */
    static int cmsgLen(int fds) {
        return CMSG_HEADER_BYTES + fds * 4;
    }

    // include/uapi/linux/stat.h
    static final int S_IFMT = 0170000;
    static final int S_IFSOCK = 0140000;
}
