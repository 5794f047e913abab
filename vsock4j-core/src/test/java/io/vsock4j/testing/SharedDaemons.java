package io.vsock4j.testing;

import io.vsock4j.transport.shared.SharedMachineDaemon;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The shared-machine daemons this JVM started for one rendezvous directory. A test's daemon would exit by
 * itself once idle; tests end it so their temporary directory can go, and never touch another's (other
 * test runs on the machine have daemons of their own).
 */
public final class SharedDaemons {
    private SharedDaemons() {
    }

    /** The daemon processes this JVM started for {@code dir}, still running. */
    public static List<ProcessHandle> startedFor(Path dir) {
        return ProcessHandle.current().children()
                .filter(p -> p.info().commandLine().map(c -> c.contains(SharedMachineDaemon.class.getName())
                        && c.contains(dir.toString())).orElse(false))
                .toList();
    }

    /** Ends them at once. */
    public static void end(Path dir) {
        end(dir, Duration.ZERO);
    }

    /** Gives each up to {@code grace} to exit by itself (its members have left), then ends it. */
    public static void end(Path dir, Duration grace) {
        for (ProcessHandle d : startedFor(dir)) {
            try {
                d.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | java.util.concurrent.ExecutionException stillThere) {
                d.destroyForcibly();
                d.onExit().join();
            } catch (InterruptedException e) {
                d.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
