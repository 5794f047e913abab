package io.vsock4j.transport.kernel;

import io.vsock4j.VsockAddress;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.MemoryLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.net.ConnectException;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The floor under the kernel provider in docs/benchmarks-kernel.md: what a JVM pays to run
 * scripts/bench/vsock_bench.c's loop itself. A blocking AF_VSOCK descriptor, read(2) and write(2) as
 * ordinary (not critical) FFM downcalls on one 64 KiB native buffer, no locks, no poll(2), no deadline,
 * nothing copied to or from the Java heap: exactly the C program's system calls, made from Java.
 * The provider's distance to C is this floor's distance to C times the provider's own cost on top.
 *
 * <p>Its streams serve only {@link KernelThroughput}: {@code read} and {@code write} ignore the array they
 * are given (the C program never looks at the bytes either) and move the native buffer instead.
 *
 * <p>Inside the project's QEMU guest only: {@link #open} refuses before socket(2) elsewhere, whatever
 * -Dvsock4j.kernel.allow says, as vsock_bench.c does. Threads: one per connection.
 */
final class BareVsock implements Closeable {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO_OPT = Linker.Option.captureCallState("errno");
    private static final VarHandle ERRNO = Linker.Option.captureStateLayout()
            .varHandle(MemoryLayout.PathElement.groupElement("errno"));
    /** Captures errno as the provider's calls do; neither critical nor heap-accessing. */
    private static final MethodHandle READ = LINKER.downcallHandle(LINKER.defaultLookup().find("read").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), ERRNO_OPT);
    private static final MethodHandle WRITE = LINKER.downcallHandle(LINKER.defaultLookup().find("write").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), ERRNO_OPT);

    private final Arena arena = Arena.ofShared();
    private final MemorySegment errno = Native.errnoCell(arena);
    private final MemorySegment buffer;
    private final int fd;

    private BareVsock(int fd, int bufferBytes) {
        this.fd = fd;
        this.buffer = arena.allocate(bufferBytes, 4096);
        buffer.fill((byte) 'v');
    }

    /** A blocking AF_VSOCK STREAM descriptor, in the test guest only. */
    private static int open(MemorySegment errno) throws IOException {
        if (!KernelGuard.current().inGuest()) {
            throw new IOException("BareVsock runs only inside the vsock4j QEMU guest (/proc/cmdline lacks "
                    + KernelGuard.GUEST_MARKER + "); refusing before socket(2)");
        }
        int fd = Native.socket(errno, LinuxAbi.AF_VSOCK, LinuxAbi.SOCK_STREAM | LinuxAbi.SOCK_CLOEXEC, 0);
        check(fd, "socket");
        return fd;
    }

    /** Listens on any CID, {@code port}; {@link Listener#accept} returns blocking connections. */
    static Listener listen(int port, int bufferBytes) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = Native.errnoCell(a);
            int fd = open(e);
            MemorySegment addr = a.allocate(LinuxAbi.SOCKADDR_VM_BYTES, 4);
            SockaddrVm.write(addr, VsockAddress.of(VsockAddress.CID_ANY, port));
            try {
                check(Native.bind(e, fd, addr), "bind");
                check(Native.listen(e, fd, 1), "listen");
            } catch (IOException failed) {
                Native.close(e, fd);
                throw failed;
            }
            return new Listener(fd, bufferBytes);
        }
    }

    /** Connects to (cid, port); ECONNRESET (nobody listens yet) as {@link ConnectException}. */
    static BareVsock connect(int cid, int port, int bufferBytes) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = Native.errnoCell(a);
            int fd = open(e);
            MemorySegment addr = a.allocate(LinuxAbi.SOCKADDR_VM_BYTES, 4);
            SockaddrVm.write(addr, VsockAddress.of(cid, port));
            int r = Native.connect(e, fd, addr);
            if (r < 0) {
                Native.close(e, fd);
                throw new ConnectException("connect to " + cid + ":" + port + ": errno " + -r);
            }
            return new BareVsock(fd, bufferBytes);
        }
    }

    /** read(2) of up to {@code len} bytes (at most the buffer) into the native buffer; -1 at EOF. */
    int read(int len) throws IOException {
        long n;
        try {
            n = (long) READ.invokeExact(errno, fd, buffer, Math.min(len, buffer.byteSize()));
        } catch (Throwable t) {
            throw new IOException("read(2) downcall failed", t);
        }
        if (n < 0) {
            throw new IOException("read(2) failed: errno " + (int) ERRNO.get(errno, 0L));
        }
        return n == 0 ? -1 : (int) n;
    }

    /** write(2) of up to {@code len} bytes (at most the buffer) from the native buffer. */
    int write(int len) throws IOException {
        long n;
        try {
            n = (long) WRITE.invokeExact(errno, fd, buffer, Math.min(len, buffer.byteSize()));
        } catch (Throwable t) {
            throw new IOException("write(2) downcall failed", t);
        }
        if (n < 0) {
            throw new IOException("write(2) failed: errno " + (int) ERRNO.get(errno, 0L));
        }
        return (int) n;
    }

    /** For {@link KernelThroughput}'s loops: reads into the native buffer, ignoring {@code b}. */
    InputStream in() {
        return new InputStream() {
            @Override
            public int read() {
                throw new UnsupportedOperationException("bulk reads only");
            }

            @Override
            public int read(byte[] ignored, int off, int len) throws IOException {
                return BareVsock.this.read(len);
            }
        };
    }

    /** For {@link KernelThroughput}'s loops: writes the native buffer whole, ignoring {@code b}. */
    OutputStream out() {
        return new OutputStream() {
            @Override
            public void write(int b) {
                throw new UnsupportedOperationException("bulk writes only");
            }

            @Override
            public void write(byte[] ignored, int off, int len) throws IOException {
                for (int done = 0; done < len; ) {
                    done += BareVsock.this.write(len - done);
                }
            }
        };
    }

    @Override
    public void close() {
        Native.close(errno, fd);
        arena.close();
    }

    private static void check(int r, String call) throws IOException {
        if (r < 0) {
            throw new IOException(call + "(2) failed: errno " + -r);
        }
    }

    /** A listening descriptor. */
    static final class Listener implements Closeable {
        private final int fd;
        private final int bufferBytes;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment errno = Native.errnoCell(arena);

        private Listener(int fd, int bufferBytes) {
            this.fd = fd;
            this.bufferBytes = bufferBytes;
        }

        BareVsock accept() throws IOException {
            int c = Native.accept4(errno, fd, LinuxAbi.SOCK_CLOEXEC);
            check(c, "accept4");
            return new BareVsock(c, bufferBytes);
        }

        @Override
        public void close() {
            Native.close(errno, fd);
            arena.close();
        }
    }
}
