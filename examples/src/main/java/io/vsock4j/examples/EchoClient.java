package io.vsock4j.examples;

import io.vsock4j.SocketProvider;
import io.vsock4j.Vsock;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSocket;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Sends a line to an echo server and returns what comes back.
 *
 * <pre>java io.vsock4j.examples.EchoClient CID PORT TEXT [PROVIDER]</pre>
 */
public final class EchoClient {
    private EchoClient() {
    }

    /** Connects to {@code remote}, sends {@code text}, shuts down its side and reads the echo to EOF. */
    public static String echo(SocketProvider provider, VsockAddress remote, String text) throws IOException {
        try (VsockSocket s = VsockSocket.connect(provider, remote)) {
            s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
            s.shutdownOutput();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    public static void main(String[] args) throws Exception {
        SocketProvider provider = args.length > 3 ? Vsock.provider(args[3]) : Vsock.defaultProvider();
        VsockAddress remote = VsockAddress.of(Integer.parseUnsignedInt(args[0]), Integer.parseUnsignedInt(args[1]));
        System.out.println(echo(provider, remote, args[2]));
    }
}
