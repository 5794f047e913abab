package io.vsock4j.transport.vhostuser;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A {@link VhostUserBackend} serving one device on a socket in a fresh directory, for each test of a
 * class that registers it ({@code @RegisterExtension}): started before the test, closed after it, and
 * the directory removed. A test may close it itself (closing twice is harmless) and {@link #restart} it,
 * as the descriptor-leak tests do. Used from the test thread only.
 */
final class BackendUnderTest implements BeforeEachCallback, AfterEachCallback {
    private final VhostUserDevice device;
    private Path dir;
    private VhostUserBackend backend;

    BackendUnderTest(VhostUserDevice device) {
        this.device = device;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        dir = Files.createTempDirectory("vhost-user-test");
        restart();
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        if (backend != null) {
            backend.close();
        }
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }

    /** Starts a new backend for the same device on the same socket path (after {@link #close}). */
    void restart() throws IOException {
        backend = VhostUserBackend.start(dir.resolve("vhost.sock"), device);
    }

    Path socketPath() {
        return backend.socketPath();
    }

    void close() throws IOException {
        backend.close();
    }

    /** How many descriptors this process has open: equal before and after a session, or one leaked. */
    static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
