package io.vsock4j.transport.vhostuser;

import io.vsock4j.VsockAddress;
import io.vsock4j.transport.link.HostTransport;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/**
 * A vhost-user-vsock device for one guest: QEMU's {@code vhost-user-vsock-pci} connects to
 * {@link #socketPath()}, the guest's own virtio-vsock driver talks to this JVM, and the host machine's
 * sockets reach the guest at {@link #guestCid()} through {@code h2g}, the machine's H2G transport (the
 * role vhost-vsock has in Linux). Several devices may share one H2G transport, one per guest.
 *
 * <pre>{@code
 * HostTransport h2g = new HostTransport("vhost-user", false);
 * Machine host = Machine.builder().name("host").transport(h2g).build();
 * try (VhostUserVsock guest3 = VhostUserVsock.start(h2g, 3, Path.of("/tmp/vm3.vsock"))) {
 *     // qemu-system-x86_64 ... -object memory-backend-memfd,id=mem,size=2G,share=on -machine memory-backend=mem
 *     //     -chardev socket,id=c0,path=/tmp/vm3.vsock -device vhost-user-vsock-pci,chardev=c0
 *     VsockSocket s = VsockSocket.connect(host, VsockAddress.of(3, 5000));
 * }
 * }</pre>
 *
 * <p>Thread-safety: {@link #close} from any thread, once or more.
 */
public final class VhostUserVsock implements AutoCloseable {
    private final int guestCid;
    private final VsockDevice device;
    private final VhostUserBackend backend;

    private VhostUserVsock(int guestCid, VsockDevice device, VhostUserBackend backend) {
        this.guestCid = guestCid;
        this.device = device;
        this.backend = backend;
    }

    /**
     * Listens for a VMM on {@code socketPath} and serves guest {@code guestCid} to it, session after
     * session, until closed.
     *
     * @throws IOException EINVAL for a reserved CID, EADDRINUSE for the host's own; or the socket's errors
     */
    public static VhostUserVsock start(HostTransport h2g, int guestCid, Path socketPath) throws IOException {
        return start(h2g, guestCid, socketPath, HostTransport.DEFAULT_GROUPS);
    }

    /**
     * As {@link #start(HostTransport, int, Path)}, in the given sibling groups (vhost-device-vsock's
     * {@code groups=}): when {@code h2g} forwards between siblings, this guest reaches exactly the guests
     * that share a group with it.
     */
    public static VhostUserVsock start(HostTransport h2g, int guestCid, Path socketPath, Set<String> groups) throws IOException {
        h2g.checkGuestCid(guestCid);
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("a guest needs at least one sibling group");
        }
        VsockDevice device = new VsockDevice(h2g, guestCid, Set.copyOf(groups));
        return new VhostUserVsock(guestCid, device, VhostUserBackend.start(socketPath, device));
    }

    public int guestCid() {
        return guestCid;
    }

    public Path socketPath() {
        return backend.socketPath();
    }

    /** See {@link VsockDevice#ringThreadTookEverySend} (tests). */
    boolean ringThreadTookEverySend() {
        return device.ringThreadTookEverySend();
    }

    /** What the device's ring thread did in the current or last VMM session (for benchmarks). */
    public RingCounters counters() {
        return device.counters();
    }

    /** Stops listening; a connected VMM is dropped and the guest's connections are reset. */
    @Override
    public void close() throws IOException {
        backend.close();
    }

    @Override
    public String toString() {
        return "vhost-user-vsock guest " + VsockAddress.cidToString(guestCid) + " on " + backend.socketPath();
    }
}
