package io.vsock4j.cli.perf;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.SocketProvider;

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
 * A connected pair of byte streams inside one JVM, over one of the transports that {@code vsock perf
 * --compare} and the JMH benchmarks (vsock4j-bench) compare: vsock over CID 1 of a provider, Java TCP over
 * 127.0.0.1, or a Unix domain socket in a fresh temporary directory. The one place both set their pairs up,
 * so the command and the benchmarks measure the same sockets. The thread that opens a pair closes it;
 * its client side and its server side may each be driven by one other thread.
 */
public final class StreamPair implements Closeable {
    /** The kernel's default SO_VM_SOCKETS_BUFFER_SIZE, and the one vsock_perf sets. */
    public static final long DEFAULT_VSK_BYTES = 256L << 10;

    /** The names {@link #open} takes, in the order {@code vsock perf --compare} runs them. */
    public static final String VSOCK = "vsock";
    public static final String TCP = "tcp";
    public static final String UNIX = "unix";

    public final InputStream clientIn;
    public final OutputStream clientOut;
    public final InputStream serverIn;
    public final OutputStream serverOut;
    private final IoAction shutdownClientOutput;
    private final Closeable[] resources;

    /** Something that may fail with an IOException, such as a shutdown. */
    @FunctionalInterface
    private interface IoAction {
        void run() throws IOException;
    }

    private StreamPair(InputStream clientIn, OutputStream clientOut, InputStream serverIn, OutputStream serverOut,
                       IoAction shutdownClientOutput, Closeable... resources) {
        this.clientIn = clientIn;
        this.clientOut = clientOut;
        this.serverIn = serverIn;
        this.serverOut = serverOut;
        this.shutdownClientOutput = shutdownClientOutput;
        this.resources = resources;
    }

    /**
     * A pair over {@code transport} ({@link #VSOCK}, {@link #TCP} or {@link #UNIX}); a vsock pair listens on
     * {@code port} of {@code provider} with {@code vskBytes} of buffer on both ends. The provider stays the caller's.
     */
    public static StreamPair open(String transport, SocketProvider provider, int port, long vskBytes) throws IOException {
        return switch (transport) {
            case VSOCK -> vsock(provider, port, vskBytes);
            case TCP -> tcp();
            case UNIX -> unix();
            default -> throw new IllegalArgumentException("unknown transport " + transport + " (vsock, tcp, unix)");
        };
    }

    /** Over CID 1 of {@code provider}: the listener is bound first, so the connect needs no second thread. */
    public static StreamPair vsock(SocketProvider provider, int port, long vskBytes) throws IOException {
        VsockServerSocket server = VsockServerSocket.open(provider);
        VsockSocket client = null;
        try {
            setBufferSize(server::setOption, vskBytes);
            server.bind(VsockAddress.of(VsockAddress.CID_ANY, port));
            client = VsockSocket.open(provider);
            setBufferSize(client::setOption, vskBytes);
            client.connect(VsockAddress.local(port));
            VsockSocket accepted = server.accept();
            return new StreamPair(client.getInputStream(), client.getOutputStream(), accepted.getInputStream(),
                    accepted.getOutputStream(), client::shutdownOutput, client, accepted, server);
        } catch (IOException | RuntimeException e) {
            closeQuietly(e, client, server);
            throw e;
        }
    }

    /** Over 127.0.0.1, Nagle off on both ends (as the benchmarks always had it). */
    public static StreamPair tcp() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Socket client = new Socket();
        try {
            client.setTcpNoDelay(true);
            client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
            Socket accepted = server.accept();
            accepted.setTcpNoDelay(true);
            return new StreamPair(client.getInputStream(), client.getOutputStream(), accepted.getInputStream(),
                    accepted.getOutputStream(), client::shutdownOutput, client, accepted, server);
        } catch (IOException | RuntimeException e) {
            closeQuietly(e, client, server);
            throw e;
        }
    }

    /** Over a Unix domain socket whose file and directory are deleted on close. */
    public static StreamPair unix() throws IOException {
        Path dir = Files.createTempDirectory("vsock4j-pair");
        Path path = dir.resolve("s");
        Closeable files = () -> {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir);
        };
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(path);
        ServerSocketChannel server = null;
        SocketChannel client = null;
        try {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(address);
            client = SocketChannel.open(address);
            SocketChannel accepted = server.accept();
            return new StreamPair(Channels.newInputStream(client), Channels.newOutputStream(client),
                    Channels.newInputStream(accepted), Channels.newOutputStream(accepted), client::shutdownOutput,
                    client, accepted, server, files);
        } catch (IOException | RuntimeException e) {
            closeQuietly(e, client, server, files);
            throw e;
        }
    }

    /** EOF for the server side once it has read everything sent: the end of one transfer. */
    public void shutdownClientOutput() throws IOException {
        shutdownClientOutput.run();
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Closeable c : resources) {
            try {
                c.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Something with setOption: a socket or a listener. */
    @FunctionalInterface
    interface OptionSetter {
        <T> Object set(java.net.SocketOption<T> option, T value) throws IOException;
    }

    /** As vsock_perf: raise the maximum first, or the size would be clamped to the old one. */
    static void setBufferSize(OptionSetter socket, long bytes) throws IOException {
        socket.set(VsockOptions.BUFFER_MAX_SIZE, bytes);
        socket.set(VsockOptions.BUFFER_SIZE, bytes);
    }

    private static void closeQuietly(Exception cause, Closeable... opened) {
        for (Closeable c : opened) {
            if (c != null) {
                try {
                    c.close();
                } catch (IOException e) {
                    cause.addSuppressed(e);
                }
            }
        }
    }
}
