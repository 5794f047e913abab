package io.vsock4j.core;

import io.vsock4j.VsockOptions;
import io.vsock4j.spi.Errno;
import io.vsock4j.wire.VirtioVsock;

import java.io.IOException;
import java.net.SocketOption;
import java.time.Duration;

/**
 * The option values of one engine socket, as one immutable value: setting an option makes a new one.
 * Every socket starts with {@link #DEFAULTS} (the kernel's, net/vmw_vsock/af_vsock.c) and an accepted
 * socket inherits its listener's, so idle connections share a single instance.
 *
 * <p>The buffer sizes follow vsock_update_buffer_size: setting any of the three re-clamps the buffer
 * size into [min, max] and to what a u32 buf_alloc can say.
 */
record SocketSettings(long bufferSizeBytes, long bufferMinSizeBytes, long bufferMaxSizeBytes,
                      Duration connectTimeout, int rcvLowatBytes) {
    static final SocketSettings DEFAULTS = new SocketSettings(VsockOptions.DEFAULT_BUFFER_SIZE_BYTES,
            VsockOptions.DEFAULT_BUFFER_MIN_SIZE_BYTES, VsockOptions.DEFAULT_BUFFER_MAX_SIZE_BYTES,
            VsockOptions.DEFAULT_CONNECT_TIMEOUT, 1);

    /** getsockopt: ENOPROTOOPT for an option the engine does not have. */
    Object get(SocketOption<?> option) throws IOException {
        if (option == VsockOptions.BUFFER_SIZE) {
            return bufferSizeBytes;
        } else if (option == VsockOptions.BUFFER_MIN_SIZE) {
            return bufferMinSizeBytes;
        } else if (option == VsockOptions.BUFFER_MAX_SIZE) {
            return bufferMaxSizeBytes;
        } else if (option == VsockOptions.CONNECT_TIMEOUT) {
            return connectTimeout;
        } else if (option == VsockOptions.SO_RCVLOWAT) {
            return rcvLowatBytes;
        }
        throw Errno.ENOPROTOOPT.exception(option.name());
    }

    /** setsockopt: the settings with {@code option} set, or EINVAL / ENOPROTOOPT as the kernel answers. */
    SocketSettings with(SocketOption<?> option, Object value) throws IOException {
        if (value == null) {
            throw Errno.EINVAL.exception(option.name() + " = null");
        }
        if (option == VsockOptions.BUFFER_SIZE) {
            return clamped(unsigned(option, (Long) value), bufferMinSizeBytes, bufferMaxSizeBytes);
        } else if (option == VsockOptions.BUFFER_MIN_SIZE) {
            return clamped(bufferSizeBytes, unsigned(option, (Long) value), bufferMaxSizeBytes);
        } else if (option == VsockOptions.BUFFER_MAX_SIZE) {
            return clamped(bufferSizeBytes, bufferMinSizeBytes, unsigned(option, (Long) value));
        } else if (option == VsockOptions.CONNECT_TIMEOUT) {
            Duration d = (Duration) value;
            if (d.isNegative() || d.isZero()) {
                throw Errno.EINVAL.exception(option.name() + " = " + d + " (must be positive)");
            }
            return new SocketSettings(bufferSizeBytes, bufferMinSizeBytes, bufferMaxSizeBytes, d, rcvLowatBytes);
        } else if (option == VsockOptions.SO_RCVLOWAT) {
            int lowat = (Integer) value;
            if (lowat < 0 || lowat > bufferSizeBytes) {
                throw Errno.EINVAL.exception("SO_RCVLOWAT " + lowat + " outside 0.." + bufferSizeBytes + " (the buffer size)");
            }
            return new SocketSettings(bufferSizeBytes, bufferMinSizeBytes, bufferMaxSizeBytes, connectTimeout,
                    Math.max(1, lowat));
        }
        throw Errno.ENOPROTOOPT.exception(option.name());
    }

    private SocketSettings clamped(long requested, long min, long max) {
        long size = Math.min(Math.max(Math.min(requested, max), min), VirtioVsock.MAX_BUF_SIZE_BYTES);
        return new SocketSettings(size, min, max, connectTimeout, rcvLowatBytes);
    }

    private static long unsigned(SocketOption<?> option, long value) throws IOException {
        if (value < 0) {
            throw Errno.EINVAL.exception(option.name() + " = " + value + " (negative)");
        }
        return value;
    }
}
