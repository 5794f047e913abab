package io.vsock4j.transport.link;

import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * The fixed-size hello that opens each of vsock4j's Unix stream protocols (a {@link UnixLink}'s
 * {@code LinkHello}, the shared machine's): every one starts with a little-endian u32 magic and u16
 * version, and each end waits for the other's only so long, so a silent or foreign peer is refused
 * instead of holding a thread. What follows the version is the protocol's own.
 *
 * <p>Stateless; called by whichever thread sets a connection up, before the link's threads start. A
 * read starts one short-lived virtual thread, the watchdog that closes the channel at the timeout.
 */
public final class UnixHello {
    private UnixHello() {
    }

    /** A little-endian buffer of {@code bytes} with the magic and version put; the caller puts the rest. */
    public static ByteBuffer start(int bytes, int magic, int version) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(magic).putShort((short) version);
    }

    /** Writes the whole of {@code hello} (flipped here); it fits an empty socket buffer, so this does not wait. */
    public static void write(SocketChannel ch, ByteBuffer hello) throws IOException {
        hello.flip();
        while (hello.hasRemaining()) {
            ch.write(hello);
        }
    }

    /**
     * Reads the peer's {@code bytes}-byte hello within {@code timeout} and checks its magic and version.
     * Returns it little-endian, positioned after the version. {@code protocol} names the protocol in the
     * errors: "PROTOCOL peer closed during the hello" (ECONNRESET), "no PROTOCOL hello within N ms"
     * (ETIMEDOUT; the channel is closed then), "not a vsock4j PROTOCOL hello (magic 0x.., version ..)"
     * (EPROTO).
     */
    public static ByteBuffer read(SocketChannel ch, int bytes, int magic, int version, Duration timeout,
                                  String protocol) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        Thread watchdog = Thread.ofVirtual().start(() -> closeAfter(ch, timeout));
        try {
            while (b.hasRemaining()) {
                if (ch.read(b) < 0) {
                    throw Errno.ECONNRESET.exception(protocol + " peer closed during the hello");
                }
            }
        } catch (AsynchronousCloseException e) {
            throw Errno.ETIMEDOUT.exception("no " + protocol + " hello within " + timeout.toMillis() + " ms");
        } finally {
            watchdog.interrupt();
        }
        b.flip();
        int gotMagic = b.getInt();
        int gotVersion = Short.toUnsignedInt(b.getShort());
        if (gotMagic != magic || gotVersion != version) {
            throw Errno.EPROTO.exception("not a vsock4j " + protocol + " hello (magic 0x" + Integer.toHexString(gotMagic)
                    + ", version " + gotVersion + ")");
        }
        return b;
    }

    /** The watchdog: closing the channel wakes the blocked read; an interrupt means the hello came in time. */
    private static void closeAfter(SocketChannel ch, Duration timeout) {
        try {
            Thread.sleep(timeout);
            ch.close();
        } catch (InterruptedException | IOException done) {
            // The hello came in time, or the channel is closed anyway.
        }
    }
}
