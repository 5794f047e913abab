package io.vsock4j.conformance;

import io.vsock4j.VsockAddress;
import io.vsock4j.SocketProvider;
import io.vsock4j.transport.kernel.KernelProvider;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the suite runs against: the provider each side opens its sockets with (one machine for both, or
 * two machines joined by a transport), the CID the client reaches the server at, and, per side, the
 * release of the kernel whose AF_VSOCK it is (for {@link KernelDifference}). In a two-process run each
 * process holds its own provider for both sides and learns the peer's kernel from the peer
 * ({@link #withPeerKernel}). Immutable.
 *
 * @param serverKernel uname -r when the server halves' sockets are the kernel's, else null (a Java engine)
 * @param clientKernel the same for the client halves
 */
public record Target(SocketProvider server, SocketProvider client, int peerCid, String serverKernel, String clientKernel) {
    /** Both sides on {@code provider}, the client reaching the server at {@code peerCid}. */
    public static Target of(SocketProvider provider, int peerCid) {
        String release = kernelReleaseOf(provider);
        return new Target(provider, provider, peerCid, release, release);
    }

    /** The release of the kernel that runs {@code half}, or null for a Java engine. */
    public String kernelOf(KernelDifference.Half half) {
        return half == KernelDifference.Half.SERVER ? serverKernel : clientKernel;
    }

    /** The release the case's {@link KernelDifference} turns on (that of the kernel running the half that shows it), or null. */
    String kernelShowing(Case c) {
        return c.difference() == null ? null : kernelOf(c.difference().half());
    }

    /** This process's target with the other half on {@code peerRelease} (null: a Java engine); {@code server}: this process runs the server halves. */
    Target withPeerKernel(boolean server, String peerRelease) {
        return server ? new Target(this.server, client, peerCid, serverKernel, peerRelease)
                : new Target(this.server, client, peerCid, peerRelease, clientKernel);
    }

    /** Both sides on one machine, over its loopback (CID 1). */
    public static Target loopback(SocketProvider provider) {
        return of(provider, VsockAddress.CID_LOCAL);
    }

    /** The release of the running kernel when {@code provider} is the kernel's, else null. */
    static String kernelReleaseOf(SocketProvider provider) {
        if (!(provider instanceof KernelProvider)) {
            return null;
        }
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("the kernel's release (/proc/sys/kernel/osrelease)", e);
        }
    }
}
