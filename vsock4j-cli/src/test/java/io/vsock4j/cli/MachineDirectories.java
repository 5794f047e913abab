package io.vsock4j.cli;

import io.vsock4j.transport.shared.SharedMachine;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.stream.Stream;

/**
 * Removes the rendezvous directory of a shared machine a launcher test made up a name for, so test runs
 * do not pile up directories under /tmp/vsock4j-UID. The daemon keeps its lock file locked until it
 * exits ({@link SharedMachine#DEFAULT_IDLE_EXIT} after its last process), so the directory goes only once
 * that lock can be taken: never under a live daemon.
 */
final class MachineDirectories {
    private MachineDirectories() {
    }

    /** Waits up to {@code max} for the daemon to exit, then deletes the directory; false if it did not exit. */
    static boolean deleteWhenDaemonExits(String machine, Duration max) throws IOException, InterruptedException {
        Path dir = SharedMachine.rendezvousDirectory(machine);
        Path lock = dir.resolve("daemon.lock");
        long deadline = System.nanoTime() + max.toNanos();
        while (Files.exists(lock)) {
            try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.WRITE); FileLock held = ch.tryLock()) {
                if (held != null) {
                    break;
                }
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(200);
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
        return true;
    }
}
