package io.vsock4j.transport.shared;

import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where the processes of a shared machine meet: one directory per machine and user, holding the
 * daemon's socket ({@value #SOCKET}), its lock ({@value #LOCK}), pid ({@value #PID}) and log
 * ({@value #LOG}). It is {@code $XDG_RUNTIME_DIR/vsock4j/<machine>} when XDG_RUNTIME_DIR names a
 * directory this user owns, else {@code /tmp/vsock4j-<uid>/<machine>}.
 *
 * <p>The directory is the whole access control: every directory on the way that vsock4j creates is
 * 0700, and one that exists already is refused (EACCES) unless this user owns it and neither group nor
 * others have any permission on it, since whoever can enter it can talk to the machine or squat its
 * socket path. Any thread; static checks on the file system only.
 */
final class Rendezvous {
    static final String SOCKET = "daemon.sock";
    static final String LOCK = "daemon.lock";
    static final String PID = "daemon.pid";
    static final String LOG = "daemon.log";

    private static final Pattern MACHINE_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,63}");
    private static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");

    private Rendezvous() {
    }

    /** The directory of machine {@code name} for this user, created (0700) if needed and checked. */
    static Path forMachine(String name) throws IOException {
        if (!MACHINE_NAME.matcher(name).matches()) {
            throw Errno.EINVAL.exception("machine name \"" + name + "\" is not 1-64 of [A-Za-z0-9._-] starting with a letter, digit or _");
        }
        Path base = baseDirectory();
        ensurePrivate(base);
        Path dir = base.resolve(name);
        ensurePrivate(dir);
        return dir;
    }

    private static Path baseDirectory() throws IOException {
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isEmpty()) {
            Path runtime = Path.of(xdg);
            if (runtime.isAbsolute() && Files.isDirectory(runtime) && Files.isWritable(runtime)
                    && ownerUid(runtime) == processUid()) {
                return runtime.resolve("vsock4j");
            }
        }
        return Path.of(System.getProperty("java.io.tmpdir", "/tmp"), "vsock4j-" + processUid());
    }

    /** Creates {@code dir} 0700 if it does not exist, then refuses it unless it is private to this user. */
    static void ensurePrivate(Path dir) throws IOException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
            Files.setPosixFilePermissions(dir, PRIVATE_DIR); // the umask may have taken owner bits
        } catch (FileAlreadyExistsException exists) {
            // Checked below like any other.
        }
        checkPrivate(dir);
    }

    /** EACCES unless {@code dir} is a directory (not a link) of this user with no group or other access. */
    static void checkPrivate(Path dir) throws IOException {
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isDirectory()) {
            throw Errno.EACCES.exception("refusing rendezvous directory " + dir + ": not a directory"
                    + (a.isSymbolicLink() ? " (a symbolic link)" : ""));
        }
        int owner = ownerUid(dir);
        if (owner != processUid()) {
            throw Errno.EACCES.exception("refusing rendezvous directory " + dir + ": owned by uid " + owner
                    + ", not by this user (uid " + processUid() + ")");
        }
        Set<PosixFilePermission> open = EnumSet.copyOf(a.permissions());
        open.removeAll(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_EXECUTE));
        if (!open.isEmpty()) {
            throw Errno.EACCES.exception("refusing rendezvous directory " + dir + ": mode "
                    + PosixFilePermissions.toString(a.permissions()) + " lets other users in (want rwx------)");
        }
    }

    private static int ownerUid(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    /** This process's effective uid: the owner of its /proc entry. */
    static int processUid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }
}
