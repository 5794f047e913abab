package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.loopback.LoopbackTransport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * The other process of {@link CrossProcessTest}, started with the test's java and class path.
 *
 * <ul>
 *   <li>{@code guest SOCKET}: connects to a host's link socket as a guest, serves an echo on port
 *       5000, prints {@code READY <cid>}.</li>
 *   <li>{@code host SOCKET}: runs a host machine serving guests on SOCKET, with an echo on port 6000,
 *       prints {@code READY 2}.</li>
 * </ul>
 * Either way it runs until killed or until its stdin closes (so it never outlives the test).
 */
public final class LinkPeerMain {
    static final int GUEST_ECHO_PORT = 5000;
    static final int HOST_ECHO_PORT = 6000;

    private LinkPeerMain() {
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[1]);
        Machine machine;
        int port;
        if (args[0].equals("guest")) {
            machine = Machine.builder().name("guest-process").transport(UnixLinks.connectGuest(socket))
                    .transport(new LoopbackTransport()).build();
            port = GUEST_ECHO_PORT;
        } else {
            HostTransport h2g = new HostTransport("host-process", false);
            machine = Machine.builder().name("host-process").transport(h2g).build();
            UnixLinkServer.serve(socket, h2g, 3);
            port = HOST_ECHO_PORT;
        }
        VsockServerSocket server = VsockServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, port));
        Thread.ofPlatform().daemon(true).start(() -> serveEcho(server));
        System.out.println("READY " + machine.localCid());
        System.out.flush();
        InputStream stdin = System.in;
        while (stdin.read() >= 0) {
            // Wait for the test to go away.
        }
        System.exit(0);
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
