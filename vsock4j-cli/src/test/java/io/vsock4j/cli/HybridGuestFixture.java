package io.vsock4j.cli;

import io.vsock4j.core.Machine;
import io.vsock4j.transport.hybrid.HybridHost;
import io.vsock4j.transport.link.HostTransport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * For the {@code vsock nc --hybrid} tests: guest {@link #CID}, a machine of this JVM on an in-memory
 * link of a HostTransport, exposed by {@link HybridHost} on the Unix socket {@link #uds} as Firecracker
 * would. (vsock4j-core's hybrid tests have the same shape in InJvmHybridGuest; test classes do not
 * cross modules.) {@link #close} stops it all and removes the temporary directory.
 */
public final class HybridGuestFixture implements AutoCloseable {
    public static final int CID = 3;

    public final Path dir;
    public final Path uds;
    public final Machine guest;
    public final HybridHost vmm;
    private final Machine vmmHost;

    public HybridGuestFixture() throws IOException {
        dir = Files.createTempDirectory("hybcli");
        uds = dir.resolve("vm.sock");
        HostTransport h2g = new HostTransport("h2g", false);
        vmmHost = Machine.builder().name("vmm-host").transport(h2g).build();
        guest = Machine.builder().name("guest").transport(h2g.attachInMemory(CID)).build();
        vmm = new HybridHost(vmmHost);
        vmm.bridge(CID, uds);
    }

    /** {@code --hybrid}'s value for this guest. */
    public String hybridOption() {
        return CID + "=" + uds;
    }

    @Override
    public void close() throws IOException {
        vmm.close();
        guest.close();
        vmmHost.close();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }
}
