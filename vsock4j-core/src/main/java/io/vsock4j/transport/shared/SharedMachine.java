package io.vsock4j.transport.shared;

import io.vsock4j.core.Machine;
import io.vsock4j.spi.Errno;
import io.vsock4j.transport.link.UnixLink;

import java.io.File;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URISyntaxException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A vsock machine shared by the processes of one user: every process that names the same machine gets
 * a {@link Machine} of its own whose LOCAL transport (CID 1) and port space are the machine's, so
 * {@code nc -l 5000} in one shell and {@code nc 1 5000} in another talk over CID 1 without a kernel
 * loopback. Under it runs a small daemon ({@link SharedMachineDaemon}) that the first process starts
 * and that exits by itself some seconds after the last process leaves. Each process is also the host
 * (CID 2, H2G) of the guests that a device process serves on the machine ({@link GuestRelay},
 * {@code vsock device}), so {@code nc 3 5000} in any shell reaches guest 3.
 *
 * <pre>{@code
 * try (Machine m = SharedMachine.connect(SharedMachine.DEFAULT_NAME)) {
 *     VsockServerSocket server = VsockServerSocket.bind(m, VsockAddress.of(VsockAddress.CID_ANY, 5000));
 *     ...
 * }
 * }</pre>
 *
 * <p>The other processes outlive this one, as they would on a Linux machine, so this process's exit
 * ends its sockets as a kernel ends an exiting process's: a JVM that exits without closing them (the end
 * of main, System.exit, SIGTERM) still delivers what they wrote, then their EOF, and so does one that
 * closes its machine with sockets open. Only a JVM that dies without running its shutdown hooks
 * (SIGKILL, a crash) leaves its peers with ECONNRESET.
 *
 * <p>Any thread; {@link #connect} blocks until the daemon answers, starting it when needed (up to
 * {@link #CONNECT_TIMEOUT}).
 */
public final class SharedMachine {
    /** The machine a user gets without naming one. */
    public static final String DEFAULT_NAME = "default";
    /** How long the daemon lingers after its last process leaves. */
    public static final Duration DEFAULT_IDLE_EXIT = Duration.ofSeconds(10);
    /** How long {@link #connect} tries to reach or start the daemon. */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);

    /** Daemons one join may start: a second and third only when the previous one found a daemon that was exiting. */
    private static final int MAX_DAEMON_STARTS = 3;

    private SharedMachine() {
    }

    /** Joins the user's default shared machine. */
    public static Machine connect() throws IOException {
        return connect(DEFAULT_NAME);
    }

    /** Joins the user's shared machine {@code name} (1-64 of [A-Za-z0-9._-]), starting its daemon if needed. */
    public static Machine connect(String name) throws IOException {
        return connect(Rendezvous.forMachine(name), DEFAULT_IDLE_EXIT);
    }

    /**
     * Joins the shared machine whose rendezvous directory is {@code dir} (which must exist, owned by this
     * user, mode 0700). A daemon started here exits {@code daemonIdleExit} after its last process leaves.
     */
    public static Machine connect(Path dir, Duration daemonIdleExit) throws IOException {
        Rendezvous.checkPrivate(dir);
        SharedLoopbackTransport local = new SharedLoopbackTransport(join(dir, daemonIdleExit), dir.getFileName().toString());
        Machine m = Machine.builder().name("shared:" + dir.getFileName()).transport(local).transport(local.hostSide())
                .portRegistry(local).build();
        try {
            local.awaitGuests();
        } catch (IOException e) {
            m.close();
            throw e;
        }
        local.closeAtExit(m);
        return m;
    }

    /** Where machine {@code name} of this user meets: created 0700 if needed; EACCES if it is not private. */
    public static Path rendezvousDirectory(String name) throws IOException {
        return Rendezvous.forMachine(name);
    }

    /**
     * Connects to the daemon, starting one when none answers; retries while a daemon is starting or
     * exiting. The link is not started.
     */
    static UnixLink join(Path dir, Duration idle) throws IOException {
        long deadline = System.nanoTime() + CONNECT_TIMEOUT.toNanos();
        Process started = null;
        int starts = 0;
        IOException last = null;
        while (true) {
            SocketChannel ch = tryConnect(dir);
            if (ch != null) {
                try {
                    SharedWire.writeHello(ch);
                    SharedWire.readHello(ch);
                    return UnixLink.over(ch, "shared-" + dir.getFileName());
                } catch (IOException e) {
                    ch.close();
                    last = e; // a daemon on its way out turned us away: start the next one
                }
            }
            if (started != null && !started.isAlive() && started.exitValue() != 0) {
                throw (IOException) Errno.ENODEV.exception("the shared machine daemon for " + dir + " failed (exit status "
                        + started.exitValue() + "); see " + dir.resolve(Rendezvous.LOG)).initCause(last);
            }
            if (started == null || !started.isAlive()) {
                // None yet, or ours found another daemon serving and left (status 0): start one, a few times at most.
                if (++starts > MAX_DAEMON_STARTS) {
                    throw (IOException) Errno.ENODEV.exception("no shared machine daemon stays up in " + dir + "; see "
                            + dir.resolve(Rendezvous.LOG)).initCause(last);
                }
                started = startDaemon(dir, idle);
            }
            if (System.nanoTime() - deadline > 0) {
                throw (IOException) Errno.ENODEV.exception("no shared machine daemon answers in " + dir + " after "
                        + CONNECT_TIMEOUT.toSeconds() + " s; see " + dir.resolve(Rendezvous.LOG)).initCause(last);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Errno.EINTR.exception("interrupted while joining the shared machine in " + dir);
            }
        }
    }

    /** A connected channel to the daemon's socket, or null when there is none or nobody listens on it. */
    private static SocketChannel tryConnect(Path dir) throws IOException {
        Path socket = dir.resolve(Rendezvous.SOCKET);
        if (!Files.exists(socket)) {
            return null;
        }
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return ch;
        } catch (IOException refusedOrGone) {
            ch.close(); // a dead daemon's socket file, or one that just went: start a daemon
            return null;
        }
    }

    /** Whether a daemon accepts connections in {@code dir} (the daemon asks before it waits for the lock). */
    static boolean daemonAnswers(Path dir) {
        try (SocketChannel ch = tryConnect(dir)) {
            return ch != null;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Starts {@code java -cp <vsock4j-core> SharedMachineDaemon <dir> <idle>} in a session of its own
     * (setsid, when there is one), so that the terminal's Ctrl-C for the process that started it does not
     * reach it; its output goes to the log in the directory. The core has no dependencies, so its own jar
     * (or classes directory) is the whole class path, however the application itself was started.
     */
    private static Process startDaemon(Path dir, Duration idle) throws IOException {
        List<String> command = new ArrayList<>();
        for (String setsid : List.of("/usr/bin/setsid", "/bin/setsid")) {
            if (Files.isExecutable(Path.of(setsid))) {
                command.add(setsid);
                break;
            }
        }
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC",
                "-cp", coreClassPath(),
                SharedMachineDaemon.class.getName(), dir.toString(), Long.toString(idle.toMillis())));
        Path log = dir.resolve(Rendezvous.LOG);
        if (!Files.exists(log)) {
            try {
                Files.createFile(log, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (FileAlreadyExistsException raced) {
                // Another process is starting a daemon too; appending to its log is fine.
            }
        }
        return new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true)
                .start();
    }

    private static String coreClassPath() throws IOException {
        try {
            return Path.of(SharedMachineDaemon.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException | RuntimeException e) {
            throw new IOException("cannot locate the vsock4j-core classes to start the shared machine daemon", e);
        }
    }
}
