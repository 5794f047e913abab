package io.vsock4j.transport.hybrid;

import io.vsock4j.core.Machine;
import io.vsock4j.transport.link.HostTransport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A guest behind the project's own host side of hybrid vsock, all in this JVM, for the hybrid tests: a
 * host machine whose H2G transport holds the guest on a memory link, the guest a machine of its own
 * with that link as its G2H transport, and {@link HybridHost} exposing it on {@code <dir>/vm.sock}
 * exactly as Firecracker would. {@link #close} stops all of it and removes the temporary directory.
 */
final class InJvmHybridGuest implements AutoCloseable {
    final Path dir;
    final Path uds;
    final HostTransport h2g;
    final Machine host;
    final Machine guest;
    final HybridHost hybrid;
    final HybridUnixBridge bridge;

    InJvmHybridGuest(int guestCid) throws IOException {
        dir = Files.createTempDirectory("hyb");
        uds = dir.resolve("vm.sock");
        h2g = new HostTransport("h2g", false);
        host = Machine.builder().name("host").transport(h2g).build();
        guest = Machine.builder().name("guest").transport(h2g.attachInMemory(guestCid)).build();
        hybrid = new HybridHost(host);
        bridge = hybrid.bridge(guestCid, uds);
    }

    @Override
    public void close() throws IOException {
        hybrid.close();
        guest.close();
        host.close();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    /** Polls {@code condition} every 10 ms for up to 10 s; fails naming {@code what}. */
    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Thread.sleep(10);
        }
    }
}
