package io.vsock4j.examples;

import io.vsock4j.SocketProvider;
import io.vsock4j.Vsock;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * An echo server on the blocking socket API: every connection gets back what it sends, until it shuts
 * down its side. One virtual thread per connection.
 *
 * <pre>java io.vsock4j.examples.EchoServer [PORT [PROVIDER]]   # PROVIDER: java (default), shared, kernel</pre>
 */
public final class EchoServer implements AutoCloseable {
    private final VsockServerSocket listener;
    private final Thread acceptor;

    private EchoServer(VsockServerSocket listener) {
        this.listener = listener;
        this.acceptor = Thread.ofPlatform().name("echo acceptor").start(this::acceptAll);
    }

    /** Listens on (any CID, {@code port}) of {@code provider} and serves until closed. */
    public static EchoServer start(SocketProvider provider, int port) throws IOException {
        return new EchoServer(VsockServerSocket.bind(provider, VsockAddress.of(VsockAddress.CID_ANY, port)));
    }

    private void acceptAll() {
        while (true) {
            VsockSocket s;
            try {
                s = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            Thread.ofVirtual().start(() -> echo(s));
        }
    }

    private static void echo(VsockSocket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            in.transferTo(out);
            s.shutdownOutput();
        } catch (IOException e) {
            System.err.println("echo: " + e.getMessage());
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        listener.close();
        acceptor.join();
    }

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        SocketProvider provider = args.length > 1 ? Vsock.provider(args[1]) : Vsock.defaultProvider();
        try (EchoServer server = start(provider, port)) {
            System.out.println("echoing on port " + port);
            server.acceptor.join();
        }
    }
}
