package io.vsock4j.transport.hybrid;

import io.vsock4j.VsockAddress;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static java.lang.System.Logger.Level.WARNING;

/**
 * Guest to host, which ports: watches the directory of {@code uds-path} for the Unix sockets host
 * programs listen on, {@code <uds-path>_P} for guest port P (Firecracker's naming: "/run/vm.sock_52"
 * for port 52, P in plain decimal). It lists them once at start, then again whenever the directory
 * changes (a WatchService: inotify on Linux), and reports the whole set each time it differs from
 * the last. Only socket files count; a regular file named like one is ignored. Every
 * {@link #TICK_MILLIS} it also calls the tick action (the host retries ports it could not bind).
 *
 * <p>Threads: one platform thread ("hybrid watch DIR") lists, waits and reports; the report and tick
 * callbacks run on it. The first listing runs on the starting thread, before {@link #start} returns.
 * {@link #close} from any thread.
 */
final class PortFiles implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PortFiles.class.getName());
    static final long TICK_MILLIS = 1000;

    private final Path dir;
    private final String prefix;
    private final WatchService watch;
    private final Consumer<Set<Integer>> report;
    private final Runnable tick;
    /** Only the watching thread touches it after start. */
    private Set<Integer> last = Set.of();

    private PortFiles(Path udsPath, WatchService watch, Consumer<Set<Integer>> report, Runnable tick) {
        this.dir = directoryOf(udsPath);
        this.prefix = udsPath.getFileName() + "_";
        this.watch = watch;
        this.report = report;
        this.tick = tick;
    }

    static PortFiles start(Path udsPath, Workers workers, Consumer<Set<Integer>> report, Runnable tick) throws IOException {
        Path dir = directoryOf(udsPath);
        WatchService watch = dir.getFileSystem().newWatchService();
        try {
            dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException | RuntimeException e) {
            watch.close();
            throw e;
        }
        PortFiles p = new PortFiles(udsPath, watch, report, tick);
        p.rescan();
        workers.platform("hybrid watch " + dir, p::watchLoop);
        return p;
    }

    private static Path directoryOf(Path udsPath) {
        Path parent = udsPath.toAbsolutePath().getParent();
        return parent == null ? udsPath.toAbsolutePath().getRoot() : parent;
    }

    private void watchLoop() {
        try {
            while (true) {
                WatchKey key = watch.poll(TICK_MILLIS, TimeUnit.MILLISECONDS);
                if (key != null) {
                    key.pollEvents(); // what changed does not matter: list again (also after an OVERFLOW)
                    if (!key.reset()) {
                        LOG.log(WARNING, "hybrid: " + dir + " is no longer watched (removed?)");
                        return;
                    }
                    rescan();
                }
                tick.run();
            }
        } catch (ClosedWatchServiceException e) {
            // close(): the normal end
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void rescan() {
        Set<Integer> now = list();
        if (!now.equals(last)) {
            last = now;
            report.accept(now);
        }
    }

    /** The ports with a socket file now. */
    Set<Integer> list() {
        Set<Integer> ports = new TreeSet<>(Integer::compareUnsigned);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir,
                p -> p.getFileName().toString().startsWith(prefix))) {
            for (Path p : entries) {
                int port = portOf(p.getFileName().toString().substring(prefix.length()));
                if (port != VsockAddress.PORT_ANY && UnixSockets.isSocket(p)) {
                    ports.add(port);
                }
            }
        } catch (IOException e) {
            LOG.log(WARNING, "hybrid: listing " + dir + " failed; keeping the ports as they were", e);
            return last;
        }
        return Set.copyOf(ports);
    }

    /** The port a name suffix spells in plain decimal, else PORT_ANY ("052", "+52", "52a" are not ports). */
    static int portOf(String suffix) {
        try {
            int port = Integer.parseUnsignedInt(suffix);
            return Integer.toUnsignedString(port).equals(suffix) ? port : VsockAddress.PORT_ANY;
        } catch (NumberFormatException e) {
            return VsockAddress.PORT_ANY;
        }
    }

    /** Where guest port {@code port}'s socket file is for {@code udsPath}. */
    static Path socketFor(Path udsPath, int port) {
        return udsPath.resolveSibling(udsPath.getFileName() + "_" + Integer.toUnsignedString(port));
    }

    @Override
    public void close() {
        try {
            watch.close();
        } catch (IOException e) {
            // The watch is released either way.
        }
    }
}
