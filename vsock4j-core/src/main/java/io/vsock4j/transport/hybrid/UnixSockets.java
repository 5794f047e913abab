package io.vsock4j.transport.hybrid;

import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/** The few Unix socket operations hybrid vsock needs (the bridge and the client transport), through java.nio's AF_UNIX channels. Stateless. */
final class UnixSockets {
    private UnixSockets() {
    }

    /**
     * A listening socket at {@code path}. A stale socket file there (nobody accepts on it) is replaced;
     * a live one is refused with EADDRINUSE, and so is a file that is not a socket.
     */
    static ServerSocketChannel listen(Path path) throws IOException {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            if (!isSocket(path)) {
                throw Errno.EADDRINUSE.exception(path + " exists and is not a socket");
            }
            if (isLive(path)) {
                throw Errno.EADDRINUSE.exception(path + ": another process listens on it");
            }
            Files.deleteIfExists(path);
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path));
            return server;
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** A blocking connection to the socket at {@code path}. */
    static SocketChannel connect(Path path) throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(path));
    }

    /** Writes all of {@code bytes[off, off + len)} to {@code c}, a blocking channel. */
    static void writeAll(SocketChannel c, byte[] bytes, int off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes, off, len);
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    static void writeAll(SocketChannel c, byte[] bytes) throws IOException {
        writeAll(c, bytes, 0, bytes.length);
    }

    /** Whether {@code path} is a socket file (the one kind of file that is neither regular, directory nor link). */
    static boolean isSocket(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther();
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isLive(Path path) {
        try (SocketChannel probe = connect(path)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
