package io.vsock4j.bench;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A connected pair of byte streams over one of the compared transports, set up inside one JVM: the
 * Java vsock loopback (CID 1), Java TCP over 127.0.0.1, or a Unix domain socket. Owned by the benchmark
 * state that made it; closed in its tear-down.
 */
final class Pair implements Closeable {
    final InputStream clientIn;
    final OutputStream clientOut;
    final InputStream serverIn;
    final OutputStream serverOut;
    private final Closeable[] resources;

    private Pair(InputStream clientIn, OutputStream clientOut, InputStream serverIn, OutputStream serverOut,
                 Closeable... resources) {
        this.clientIn = clientIn;
        this.clientOut = clientOut;
        this.serverIn = serverIn;
        this.serverOut = serverOut;
        this.resources = resources;
    }

    static Pair open(String transport) throws IOException {
        return switch (transport) {
            case "vsock" -> vsock();
            case "tcp" -> tcp();
            case "unix" -> unix();
            default -> throw new IllegalArgumentException("unknown transport " + transport + " (vsock, tcp, unix)");
        };
    }

    private static Pair vsock() throws IOException {
        Machine machine = Machine.loopback();
        VsockServerSocket server = VsockServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, 5000));
        VsockSocket client = VsockSocket.connect(machine, VsockAddress.local(5000));
        VsockSocket accepted = server.accept();
        return new Pair(client.getInputStream(), client.getOutputStream(), accepted.getInputStream(),
                accepted.getOutputStream(), client, accepted, server, machine::close);
    }

    private static Pair tcp() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Socket client = new Socket();
        client.setTcpNoDelay(true);
        client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
        Socket accepted = server.accept();
        accepted.setTcpNoDelay(true);
        return new Pair(client.getInputStream(), client.getOutputStream(), accepted.getInputStream(),
                accepted.getOutputStream(), client, accepted, server);
    }

    private static Pair unix() throws IOException {
        Path dir = Files.createTempDirectory("vsock4j-bench");
        Path path = dir.resolve("s");
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(address);
        SocketChannel client = SocketChannel.open(address);
        SocketChannel accepted = server.accept();
        return new Pair(Channels.newInputStream(client), Channels.newOutputStream(client),
                Channels.newInputStream(accepted), Channels.newOutputStream(accepted),
                client, accepted, server, () -> {
                    Files.deleteIfExists(path);
                    Files.deleteIfExists(dir);
                });
    }

    @Override
    public void close() throws IOException {
        for (Closeable c : resources) {
            c.close();
        }
    }
}
