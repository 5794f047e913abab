package io.vsock4j.transport.shared;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * The other process of {@link SharedMachineTest}, started with the test's java and class path, on the
 * shared machine whose directory is DIR.
 *
 * <ul>
 *   <li>{@code echo DIR PORT [DIAL_PORT]}: serves an echo on PORT; with DIAL_PORT, also connects to
 *       1:DIAL_PORT and writes {@code hello\n}. Prints {@code READY}.</li>
 *   <li>{@code any DIR N}: binds N sockets to PORT_ANY and prints {@code READY p1,p2,...}.</li>
 *   <li>{@code send DIR DIAL_PORT BYTES send|both}: connects to 1:DIAL_PORT, writes BYTES bytes of
 *       {@link #sendPattern}, shuts down SEND or both directions (no close: the socket keeps its port)
 *       and prints {@code READY}.</li>
 *   <li>{@code leave DIR DIAL_PORT BYTES}: connects to 1:DIAL_PORT, prints {@code READY}, writes BYTES
 *       bytes of {@link #sendPattern}, closes its machine without closing the socket and prints
 *       {@code LEFT}.</li>
 *   <li>{@code exit DIR DIAL_PORT BYTES}: connects to 1:DIAL_PORT, prints {@code READY}, writes BYTES
 *       bytes of {@link #sendPattern} and calls System.exit(0) without closing the socket.</li>
 * </ul>
 * Each runs until killed or until its stdin closes (so it never outlives the test).
 */
public final class SharedPeerMain {
    /** A started peer and what it printed after READY. */
    record Started(Process process, String ready) {
    }

    private SharedPeerMain() {
    }

    /** Starts a peer in a new JVM with this test JVM's java and class path: {@code MODE DIR ARGS...}. */
    static Started start(Path dir, Object... modeAndArgs) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                SharedPeerMain.class.getName(), modeAndArgs[0].toString(), dir.toString()));
        for (int i = 1; i < modeAndArgs.length; i++) {
            command.add(modeAndArgs[i].toString());
        }
        Process peer = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (line == null || !line.startsWith("READY")) {
            peer.destroyForcibly();
            throw new IllegalStateException("the peer's first line was '" + line + "', not READY");
        }
        return new Started(peer, line.substring(5).trim());
    }

    public static void main(String[] args) throws Exception {
        Machine machine = SharedMachine.connect(Path.of(args[1]), Duration.ofSeconds(1));
        List<Object> keep = new ArrayList<>();
        String ready = "READY";
        if (args[0].equals("send")) {
            VsockSocket s = VsockSocket.connect(machine, VsockAddress.of(VsockAddress.CID_LOCAL, Integer.parseInt(args[2])));
            keep.add(s);
            s.getOutputStream().write(sendPattern(Integer.parseInt(args[3])));
            s.shutdownOutput();
            if (args[4].equals("both")) {
                s.shutdownInput();
            }
        } else if (args[0].equals("leave")) {
            VsockSocket s = VsockSocket.connect(machine, VsockAddress.of(VsockAddress.CID_LOCAL, Integer.parseInt(args[2])));
            System.out.println(ready);
            System.out.flush();
            s.getOutputStream().write(sendPattern(Integer.parseInt(args[3])));
            machine.close();
            System.out.println("LEFT");
            System.out.flush();
        } else if (args[0].equals("exit")) {
            VsockSocket s = VsockSocket.connect(machine, VsockAddress.of(VsockAddress.CID_LOCAL, Integer.parseInt(args[2])));
            System.out.println(ready);
            System.out.flush();
            s.getOutputStream().write(sendPattern(Integer.parseInt(args[3])));
            System.exit(0);
        } else if (args[0].equals("echo")) {
            VsockServerSocket server = VsockServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, Integer.parseInt(args[2])));
            keep.add(server);
            Thread.ofPlatform().daemon(true).start(() -> serveEcho(server));
            if (args.length > 3) {
                VsockSocket s = VsockSocket.connect(machine, VsockAddress.of(VsockAddress.CID_LOCAL, Integer.parseInt(args[3])));
                s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
                keep.add(s);
            }
        } else {
            StringJoiner ports = new StringJoiner(",", "READY ", "");
            for (int i = Integer.parseInt(args[2]); i > 0; i--) {
                VsockServerSocket s = VsockServerSocket.bind(machine, VsockAddress.any());
                keep.add(s);
                ports.add(Integer.toString(s.getLocalAddress().port()));
            }
            ready = ports.toString();
        }
        System.out.println(ready);
        System.out.flush();
        while (System.in.read() >= 0) {
            // Wait for the test to go away.
        }
        System.exit(0);
    }

    /** What {@code send} writes: {@code bytes} bytes that are not all alike. */
    static byte[] sendPattern(int bytes) {
        byte[] data = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            data[i] = (byte) (i * 31 + (i >>> 8));
        }
        return data;
    }

    private static void serveEcho(VsockServerSocket server) {
        while (true) {
            try {
                VsockSocket s = server.accept();
                Thread.ofVirtual().start(() -> echo(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void echo(VsockSocket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            in.transferTo(out);
            s.shutdownOutput();
        } catch (IOException e) {
            // The peer went away; nothing to tell.
        }
    }
}
