package io.vsock4j.transport.kernel;

import io.vsock4j.VsockAddress;
import io.vsock4j.SocketProvider;
import io.vsock4j.spi.TransportRole;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * What this machine's kernel offers for vsock, and the choice of provider.
 *
 * <p>{@link #detect()} probes without sending anything: the local-CID ioctl on /dev/vsock (a CID of 3
 * or more means a G2H transport), the presence of /dev/vhost-vsock (H2G), and a bind(2) to CID 1 on a
 * fresh socket (LOCAL: only the loopback transport accepts it; the socket is closed unconnected).
 *
 * <p>{@link #checkedProvider()} is the provider named "kernel" (guarded: see {@link KernelGuard});
 * {@link #providerWithLoopback} answers for "auto": the kernel only where it is allowed and has its own
 * loopback, so CID 1 never reaches a kernel that would forward it to the hypervisor (the fallback, a
 * Java machine, is chosen in io.vsock4j.machines). Thread-safe; the detection is cheap and repeated per
 * call.
 */
public final class KernelVsock {
    private KernelVsock() {
    }

    /** The kernel's vsock as probed: the local CID (or CID_ANY) and the transport roles it fills. */
    public record Detection(int localCid, Set<TransportRole> roles) {
        public Detection {
            roles = Set.copyOf(roles);
        }

        public boolean has(TransportRole role) {
            return roles.contains(role);
        }

        @Override
        public String toString() {
            return "kernel vsock: local CID " + VsockAddress.cidToString(localCid) + ", roles " + roles;
        }
    }

    /** Probes the kernel; never connects, listens or sends. */
    public static Detection detect() {
        int cid = localCid();
        Set<TransportRole> roles = EnumSet.noneOf(TransportRole.class);
        if (cid != VsockAddress.CID_ANY && Integer.compareUnsigned(cid, VsockAddress.CID_FIRST_GUEST) >= 0) {
            roles.add(TransportRole.G2H);
        }
        if (Files.exists(Path.of("/dev/vhost-vsock"))) {
            roles.add(TransportRole.H2G);
        }
        if (loopbackBinds()) {
            roles.add(TransportRole.LOCAL);
        }
        return new Detection(cid, roles);
    }

    /** IOCTL_VM_SOCKETS_GET_LOCAL_CID on /dev/vsock, or CID_ANY when there is none. */
    public static int localCid() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = Native.errnoCell(a);
            int fd = Native.open(e, a.allocateFrom("/dev/vsock"), LinuxAbi.O_RDONLY | LinuxAbi.O_CLOEXEC);
            if (fd < 0) {
                return VsockAddress.CID_ANY;
            }
            try {
                MemorySegment cid = a.allocate(JAVA_INT);
                cid.set(JAVA_INT, 0, VsockAddress.CID_ANY);
                return Native.ioctl(e, fd, LinuxAbi.IOCTL_VM_SOCKETS_GET_LOCAL_CID, cid) < 0
                        ? VsockAddress.CID_ANY : cid.get(JAVA_INT, 0);
            } finally {
                Native.close(e, fd);
            }
        }
    }

    /** bind(CID 1, any port) on a fresh socket: succeeds only with a kernel loopback transport. */
    private static boolean loopbackBinds() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = Native.errnoCell(a);
            int fd = Native.socket(e, LinuxAbi.AF_VSOCK, LinuxAbi.SOCK_STREAM | LinuxAbi.SOCK_CLOEXEC, 0);
            if (fd < 0) {
                return false; // no AF_VSOCK at all
            }
            try {
                MemorySegment addr = a.allocate(LinuxAbi.SOCKADDR_VM_BYTES, 4);
                SockaddrVm.write(addr, VsockAddress.of(VsockAddress.CID_LOCAL, VsockAddress.PORT_ANY));
                return Native.bind(e, fd, addr) == 0;
            } finally {
                Native.close(e, fd);
            }
        }
    }

    /** The kernel provider with this JVM's guard and a fresh detection. */
    public static KernelProvider provider() {
        return new KernelProvider(KernelGuard.current(), detect());
    }

    /** A kernel provider with a given guard (tests). */
    public static KernelProvider provider(KernelGuard guard) {
        return new KernelProvider(guard, detect());
    }

    /**
     * The kernel provider for the name "kernel": only where this JVM's guard allows it.
     *
     * @throws IOException where the guard refuses, saying why
     */
    public static KernelProvider checkedProvider() throws IOException {
        KernelGuard guard = KernelGuard.current();
        guard.check("use the kernel provider");
        return new KernelProvider(guard, detect());
    }

    /**
     * The kernel provider for the name "auto" under {@code guard}: where the guard allows the kernel and
     * the kernel has its own loopback (so CID 1 stays on this machine); otherwise null, and the caller
     * falls back to the Java loopback.
     */
    public static KernelProvider providerWithLoopback(KernelGuard guard) {
        if (guard.allowed()) {
            Detection d = detect();
            if (d.has(TransportRole.LOCAL)) {
                return new KernelProvider(guard, d);
            }
        }
        return null;
    }
}
