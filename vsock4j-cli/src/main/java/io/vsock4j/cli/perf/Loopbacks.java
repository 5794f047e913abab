package io.vsock4j.cli.perf;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.spi.SocketProvider;

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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One transfer in this JVM, receiver on a virtual thread and sender on the caller's, over vsock (the
 * chosen provider, CID 1), TCP on 127.0.0.1, or a Unix domain socket in a fresh temporary directory.
 * The result is the receiver's: first byte to EOF. Everything opened here is closed before returning.
 */
final class Loopbacks {
    private Loopbacks() {
    }

    static Transfer.Result vsock(SocketProvider provider, int port, long bytes, int bufSize, long vskSize)
            throws IOException, InterruptedException {
        try (VsockServerSocket server = VsockServerSocket.open(provider)) {
            PerfCommand.setBufferSize(server::setOption, vskSize);
            server.bind(VsockAddress.of(VsockAddress.CID_ANY, port));
            return run(() -> {
                try (VsockSocket s = server.accept()) {
                    return Transfer.receive(s.getInputStream(), bufSize);
                }
            }, () -> {
                try (VsockSocket s = VsockSocket.open(provider)) {
                    PerfCommand.setBufferSize(s::setOption, vskSize);
                    s.connect(VsockAddress.local(port));
                    Transfer.send(s.getOutputStream(), bytes, bufSize);
                    s.shutdownOutput();
                    s.getInputStream().read(); // waits for the receiver's close, so its socket goes first
                }
            });
        }
    }

    static Transfer.Result tcp(long bytes, int bufSize) throws IOException, InterruptedException {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return run(() -> {
                try (Socket s = server.accept()) {
                    return Transfer.receive(s.getInputStream(), bufSize);
                }
            }, () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
                    Transfer.send(s.getOutputStream(), bytes, bufSize);
                    s.shutdownOutput();
                    s.getInputStream().read();
                }
            });
        }
    }

    static Transfer.Result unix(long bytes, int bufSize) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("vsock-perf");
        Path path = dir.resolve("perf.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            return run(() -> {
                try (SocketChannel s = server.accept()) {
                    return Transfer.receive(Channels.newInputStream(s), bufSize);
                }
            }, () -> {
                try (SocketChannel s = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
                    OutputStream out = Channels.newOutputStream(s);
                    Transfer.send(out, bytes, bufSize);
                    s.shutdownOutput();
                    InputStream in = Channels.newInputStream(s);
                    in.read();
                }
            });
        } finally {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir);
        }
    }

    private interface Receiver {
        Transfer.Result receive() throws IOException;
    }

    private interface Sender {
        void send() throws IOException;
    }

    private static Transfer.Result run(Receiver receiver, Sender sender) throws IOException, InterruptedException {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Transfer.Result> received = pool.submit(receiver::receive);
            try {
                sender.send();
                return received.get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            } finally {
                received.cancel(true);
            }
        }
    }
}
