package io.vsock4j;

import java.net.SocketOption;
import java.time.Duration;

/**
 * The socket options of AF_VSOCK (level AF_VSOCK, include/uapi/linux/vm_sockets.h) and the generic ones
 * the kernel honours for vsock, as {@link SocketOption}s for {@code setOption}/{@code getOption}.
 *
 * <p>The three buffer sizes behave as in the kernel: setting any of them re-clamps the buffer size into
 * {@code [min, max]}, so a size above the maximum silently becomes the maximum. A connected socket that
 * changes its buffer size advertises the new one to its peer at once.
 */
public final class VsockOptions {
    private VsockOptions() {
    }

    /** SO_VM_SOCKETS_BUFFER_SIZE (0): the receive buffer, in bytes; the peer's credit. Default 256 KiB. */
    public static final SocketOption<Long> BUFFER_SIZE = new Option<>("SO_VM_SOCKETS_BUFFER_SIZE", Long.class);
    /** SO_VM_SOCKETS_BUFFER_MIN_SIZE (1), bytes. Default 128. */
    public static final SocketOption<Long> BUFFER_MIN_SIZE = new Option<>("SO_VM_SOCKETS_BUFFER_MIN_SIZE", Long.class);
    /** SO_VM_SOCKETS_BUFFER_MAX_SIZE (2), bytes. Default 256 KiB. */
    public static final SocketOption<Long> BUFFER_MAX_SIZE = new Option<>("SO_VM_SOCKETS_BUFFER_MAX_SIZE", Long.class);
    /** SO_VM_SOCKETS_CONNECT_TIMEOUT (6): how long connect waits for the peer's answer. Default 2 s. */
    public static final SocketOption<Duration> CONNECT_TIMEOUT = new Option<>("SO_VM_SOCKETS_CONNECT_TIMEOUT", Duration.class);
    /**
     * SO_RCVLOWAT: a stream read waits until this many bytes are queued (or EOF, error, timeout). At
     * least 1; above the buffer size it is refused with EINVAL, as in the kernel.
     */
    public static final SocketOption<Integer> SO_RCVLOWAT = new Option<>("SO_RCVLOWAT", Integer.class);

    /** The kernel's defaults (net/vmw_vsock/af_vsock.c). */
    public static final long DEFAULT_BUFFER_SIZE_BYTES = 256 * 1024;
    public static final long DEFAULT_BUFFER_MIN_SIZE_BYTES = 128;
    public static final long DEFAULT_BUFFER_MAX_SIZE_BYTES = 256 * 1024;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);

    private record Option<T>(String name, Class<T> type) implements SocketOption<T> {
        @Override
        public String toString() {
            return name;
        }
    }
}
