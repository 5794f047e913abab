package io.vsock4j.cli.proxy;

import io.vsock4j.core.Machine;
import io.vsock4j.transport.shared.SharedMachine;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

/**
 * {@link ProxyRelayCases} on a shared machine of the test's own (its rendezvous in a temporary directory,
 * so no user's machine is touched): the vsock side goes through the shared machine's daemon process.
 */
class ProxySharedRelayTest extends ProxyRelayCases {
    @TempDir
    Path dir;

    @Override
    Machine newMachine() throws IOException {
        Path rendezvous = Files.createDirectory(dir.resolve("proxy-test"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return SharedMachine.connect(rendezvous, Duration.ofMillis(500));
    }
}
