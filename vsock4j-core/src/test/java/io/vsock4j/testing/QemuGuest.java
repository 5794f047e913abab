package io.vsock4j.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Boots the project's throw-away QEMU guest (guest/run.sh) from a test: the one place tests find the
 * script and spell its options. The guest sees this machine's files read-only, writes only to the
 * shared directory, and powers off when its command ends; run.sh exits with the command's status.
 */
public final class QemuGuest {
    private QemuGuest() {
    }

    /** The checkout's root: the first directory above the working directory that has guest/run.sh. */
    public static Path repositoryRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isExecutable(d.resolve("guest/run.sh"))) {
                return d;
            }
        }
        throw new IllegalStateException("guest/run.sh not found above " + Path.of("").toAbsolutePath());
    }

    /**
     * Starts a guest with a vhost-user-vsock device whose backend listens on {@code socket} (it must
     * already listen), sharing {@code dir}, running {@code command}; its output goes to
     * {@code dir/name.log}.
     *
     * @param memory guest RAM as run.sh takes it (the device maps all of it), e.g. "1G"
     */
    public static Process withDevice(Path socket, Path dir, String name, int timeoutSeconds, String memory,
            String... command) throws IOException {
        List<String> args = new ArrayList<>(List.of(repositoryRoot().resolve("guest/run.sh").toString(),
                "--timeout", Integer.toString(timeoutSeconds), "--mem", memory, "--vhost-user-vsock", socket.toString(),
                "--share", dir.toString(), "--"));
        args.addAll(List.of(command));
        return new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile()).start();
    }
}
