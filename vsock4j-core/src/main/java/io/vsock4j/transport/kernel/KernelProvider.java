package io.vsock4j.transport.kernel;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.internal.ffm.NativeErrors;
import io.vsock4j.spi.Errno;
import io.vsock4j.SocketHandle;
import io.vsock4j.SocketProvider;
import io.vsock4j.spi.TransportRole;

import java.io.IOException;
import java.lang.foreign.Arena;

/**
 * The kernel's AF_VSOCK as a {@link SocketProvider}: every socket is a kernel socket
 * ({@link KernelSocket}), routed by the kernel's own transports. Two checks run before the kernel sees
 * anything: the {@link KernelGuard} (before socket(2), connect(2) and listen(2)), and the loopback
 * rule: without a kernel loopback transport, a connect to CID 1 or to this machine's own CID would leave
 * through the G2H transport to the hypervisor, so it is refused with ENODEV instead.
 * Immutable and thread-safe.
 */
public final class KernelProvider implements SocketProvider {
    private final KernelGuard guard;
    private final KernelVsock.Detection detection;

    KernelProvider(KernelGuard guard, KernelVsock.Detection detection) {
        this.guard = guard;
        this.detection = detection;
    }

    /** socket(AF_VSOCK, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), once the guard allows it. */
    @Override
    public SocketHandle open(SocketType type) throws IOException {
        guard.check("open a " + type + " socket");
        int kernelType = type == SocketType.STREAM ? LinuxAbi.SOCK_STREAM : LinuxAbi.SOCK_SEQPACKET;
        int fd;
        try (Arena a = Arena.ofConfined()) {
            fd = Native.socket(Native.errnoCell(a), LinuxAbi.AF_VSOCK,
                    kernelType | LinuxAbi.SOCK_NONBLOCK | LinuxAbi.SOCK_CLOEXEC, 0);
        }
        if (fd < 0) {
            throw NativeErrors.exception(-fd, "socket(AF_VSOCK, " + type + ")");
        }
        try {
            return new KernelSocket(this, type, fd, false);
        } catch (IOException | RuntimeException e) {
            new KernelFd(fd).close();
            throw e;
        }
    }

    void checkConnect(VsockAddress remote) throws IOException {
        guard.check("connect to " + remote.describe());
        if (!detection.has(TransportRole.LOCAL)
                && (remote.cid() == VsockAddress.CID_LOCAL || (remote.cid() == detection.localCid()
                && remote.cid() != VsockAddress.CID_ANY))) {
            throw Errno.ENODEV.exception("connect to " + remote.describe() + ": the kernel has no loopback "
                    + "transport, so it would send this to the hypervisor; use the Java loopback (provider \"java\")");
        }
    }

    void checkListen() throws IOException {
        guard.check("listen");
    }

    /** What the kernel's detection found. */
    public KernelVsock.Detection detection() {
        return detection;
    }

    @Override
    public int localCid() {
        return detection.localCid();
    }

    @Override
    public String name() {
        return "kernel";
    }

    @Override
    public String toString() {
        return "KernelProvider[" + detection + ", " + guard + "]";
    }
}
