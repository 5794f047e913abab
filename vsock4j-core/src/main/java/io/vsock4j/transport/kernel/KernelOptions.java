package io.vsock4j.transport.kernel;

import io.vsock4j.VsockOptions;
import io.vsock4j.internal.ffm.NativeErrors;
import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.SocketOption;
import java.time.Duration;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@link VsockOptions} as getsockopt/setsockopt on a kernel socket: the three buffer sizes (level
 * AF_VSOCK, u64), SO_VM_SOCKETS_CONNECT_TIMEOUT (the 64-bit "old" option 6, a timeval) and SO_RCVLOWAT
 * (SOL_SOCKET, int). The kernel does the clamping and the checks; values the Java engine refuses before
 * asking (a negative size, a timeout that is not positive) are refused here the same way, so both
 * providers answer alike. Stateless; callers hold the descriptor open ({@link KernelFd#begin}).
 */
final class KernelOptions {
    private KernelOptions() {
    }

    static <T> T get(int fd, SocketOption<T> option) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = Native.errnoCell(a);
            MemorySegment value = a.allocate(16, 8);
            MemorySegment len = a.allocate(JAVA_INT);
            Object result;
            if (option == VsockOptions.CONNECT_TIMEOUT) {
                check(Native.getsockopt(e, fd, LinuxAbi.AF_VSOCK, LinuxAbi.SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD, value, len), option);
                result = Duration.ofSeconds(value.get(JAVA_LONG, 0)).plusNanos(value.get(JAVA_LONG, 8) * 1000);
            } else if (option == VsockOptions.SO_RCVLOWAT) {
                MemorySegment i = value.asSlice(0, 4);
                check(Native.getsockopt(e, fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_RCVLOWAT, i, len), option);
                result = i.get(JAVA_INT, 0);
            } else {
                MemorySegment u64 = value.asSlice(0, 8);
                check(Native.getsockopt(e, fd, LinuxAbi.AF_VSOCK, bufferOption(option), u64, len), option);
                result = u64.get(JAVA_LONG, 0);
            }
            return option.type().cast(result);
        }
    }

    static <T> void set(int fd, SocketOption<T> option, T value) throws IOException {
        if (value == null) {
            throw Errno.EINVAL.exception(option.name() + " = null");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = Native.errnoCell(a);
            if (option == VsockOptions.CONNECT_TIMEOUT) {
                Duration d = (Duration) value;
                if (d.isNegative() || d.isZero()) {
                    throw Errno.EINVAL.exception(option.name() + " = " + d + " (must be positive)");
                }
                setConnectTimeout(e, fd, a, d.toNanos());
            } else if (option == VsockOptions.SO_RCVLOWAT) {
                MemorySegment i = a.allocate(JAVA_INT);
                i.set(JAVA_INT, 0, (Integer) value);
                check(Native.setsockopt(e, fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_RCVLOWAT, i), option);
            } else {
                int name = bufferOption(option);
                long v = (Long) value;
                if (v < 0) {
                    throw Errno.EINVAL.exception(option.name() + " = " + v + " (negative)");
                }
                MemorySegment u64 = a.allocate(JAVA_LONG);
                u64.set(JAVA_LONG, 0, v);
                check(Native.setsockopt(e, fd, LinuxAbi.AF_VSOCK, name, u64), option);
            }
        }
    }

    /** Sets the kernel's connect timeout in nanoseconds (rounded up to a jiffy by the kernel). */
    static void setConnectTimeoutNanos(int fd, long nanos) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            setConnectTimeout(Native.errnoCell(a), fd, a, nanos);
        }
    }

    private static void setConnectTimeout(MemorySegment e, int fd, Arena a, long nanos) throws IOException {
        MemorySegment tv = a.allocate(16, 8);
        long micros = Math.max(1, (nanos + 999) / 1000);
        tv.set(JAVA_LONG, 0, micros / 1_000_000);
        tv.set(JAVA_LONG, 8, micros % 1_000_000);
        check(Native.setsockopt(e, fd, LinuxAbi.AF_VSOCK, LinuxAbi.SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD, tv),
                VsockOptions.CONNECT_TIMEOUT);
    }

    private static int bufferOption(SocketOption<?> option) throws IOException {
        if (option == VsockOptions.BUFFER_SIZE) {
            return LinuxAbi.SO_VM_SOCKETS_BUFFER_SIZE;
        }
        if (option == VsockOptions.BUFFER_MIN_SIZE) {
            return LinuxAbi.SO_VM_SOCKETS_BUFFER_MIN_SIZE;
        }
        if (option == VsockOptions.BUFFER_MAX_SIZE) {
            return LinuxAbi.SO_VM_SOCKETS_BUFFER_MAX_SIZE;
        }
        throw Errno.ENOPROTOOPT.exception(option.name());
    }

    private static void check(int r, SocketOption<?> option) throws IOException {
        if (r < 0) {
            throw NativeErrors.exception(-r, option.name());
        }
    }
}
