package io.vsock4j.bench;

import io.vsock4j.cli.Stdio;
import io.vsock4j.cli.VsockCommand;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.link.HostTransport;
import io.vsock4j.transport.link.UnixLinkServer;
import io.vsock4j.transport.link.UnixLinks;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * One end of scripts/bench/bench-proxy.sh's "direct link" relay: a {@code vsock} command whose machine
 * is one side of a single Unix link between two JVMs, with no shared machine's daemon between them.
 * {@code host} serves the link as CID 2 (guest CID 3 on the other end); {@code guest} connects to it.
 * What the proxies gain here over the shared machine is the most a direct path between two processes of a
 * shared machine could give them, which is why it is measured.
 *
 * <pre>LinkedProxy SOCKET host|guest VSOCK-ARGS...</pre>
 * Runs the command on the caller's thread and exits with its status.
 */
public final class LinkedProxy {
    private LinkedProxy() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3 || !(args[1].equals("host") || args[1].equals("guest"))) {
            System.err.println("usage: LinkedProxy SOCKET host|guest VSOCK-ARGS...");
            System.exit(2);
        }
        Path socket = Path.of(args[0]);
        Machine machine;
        if (args[1].equals("host")) {
            HostTransport h2g = new HostTransport("linked-host", false);
            machine = Machine.builder().name("linked-host").transport(h2g).build();
            UnixLinkServer.serve(socket, h2g, 3);
        } else {
            machine = Machine.builder().name("linked-guest").transport(UnixLinks.connectGuest(socket)).build();
        }
        int code = VsockCommand.execute(Stdio.system(), (choice, name) -> machine, Arrays.copyOfRange(args, 2, args.length));
        System.exit(code);
    }
}
