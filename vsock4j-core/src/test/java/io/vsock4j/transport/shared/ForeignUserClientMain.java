package io.vsock4j.transport.shared;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A process of another user knocking at a shared machine's daemon, for {@link SharedMachineTest}:
 * {@code ForeignUserClientMain SOCKET} connects to the daemon's socket and says the hello a member
 * says ({@link SharedWire}), then prints one line: {@code ADMITTED} when the daemon answered the hello,
 * else {@code REFUSED <what failed>}. It does not go through {@link SharedMachine#connect}, which
 * would refuse a directory of another user before ever reaching the daemon: this client is the one
 * that gets past the files, and the daemon's own check must stop it.
 *
 * <p>{@link #runAs} starts it as another user with setpriv, the test's java and class path. Main thread only.
 */
public final class ForeignUserClientMain {
    private ForeignUserClientMain() {
    }

    public static void main(String[] args) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(Path.of(args[0])));
            SharedWire.writeHello(ch);
            SharedWire.readHello(ch);
            System.out.println("ADMITTED");
        } catch (IOException | RuntimeException e) {
            System.out.println("REFUSED " + e);
        }
    }

    /**
     * Runs the client as {@code user} (group {@code group}, no supplementary groups) against
     * {@code socket} and returns its one line. Needs root; fails, naming why, when setpriv is missing or
     * the client printed something else.
     */
    static String runAs(String user, String group, Path socket) throws IOException, InterruptedException {
        Path setpriv = Path.of("/usr/bin/setpriv");
        if (!Files.isExecutable(setpriv)) {
            throw new AssertionError("this test runs a client as " + user + " with " + setpriv + ", which is missing");
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(setpriv.toString(), "--reuid=" + user, "--regid=" + group, "--clear-groups",
                java, "-XX:-UsePerfData", "-cp", System.getProperty("java.class.path"),
                ForeignUserClientMain.class.getName(), socket.toString()))
                .redirectErrorStream(true).start();
        String out;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            out = String.join("\n", r.lines().toList());
        }
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the client as " + user + " did not exit; it printed: " + out);
        }
        if (!out.startsWith("ADMITTED") && !out.startsWith("REFUSED")) {
            throw new AssertionError("the client as " + user + " exited " + p.exitValue() + " and printed: " + out);
        }
        return out;
    }
}
