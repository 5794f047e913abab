package io.vsock4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ScatteringByteChannel;
import java.util.Objects;

/**
 * A vsock stream socket as a {@code java.nio} channel: reads and writes of {@link ByteBuffer}s, heap or
 * direct, scattering and gathering, blocking or not, for code written against {@link ByteChannel}.
 * The shape is {@link java.nio.channels.SocketChannel}'s, without its selector: a non-blocking channel
 * tells when to try again through {@link #readyOps()} and {@link #setReadinessListener} (see
 * {@link Readiness}), which is what an event loop needs and works on every transport of the Java engine.
 * Why not a {@code SelectorProvider}: a JDK selector waits on descriptors, and the Java engine's sockets
 * have none (docs/netty.md says more).
 *
 * <ul>
 *   <li>Blocking (the default): {@link #read} waits for at least one byte, or returns -1 at EOF;
 *       {@link #write} returns once every byte is handed to the connection (within the peer's credit).
 *       A scattering read fills the next buffers only from what is already queued.</li>
 *   <li>Non-blocking: {@link #read} returns 0 when nothing is queued, {@link #write} sends what the
 *       peer's credit allows, possibly 0 bytes; {@link #connect} starts a connect that
 *       {@link #finishConnect} ends.</li>
 * </ul>
 *
 * <p>Errors are the kernel's errno cases, as on {@link VsockSocket}; a call on a closed channel throws
 * {@link ClosedChannelException}. Close and interrupt behave as {@link SocketHandle} specifies: a
 * blocked call returns when another thread closes the channel, and an interrupted one closes it and
 * throws {@link java.nio.channels.ClosedByInterruptException}.
 *
 * <p>Thread-safety: as the socket's; one reader and one writer may work at once.
 */
public final class VsockSocketChannel extends HandleChannel<VsockSocketChannel>
        implements ByteChannel, ScatteringByteChannel, GatheringByteChannel {
    private VsockSocketChannel(SocketHandle handle) {
        super(handle);
    }

    @Override
    VsockSocketChannel self() {
        return this;
    }

    /** An unconnected channel on {@code provider}. */
    public static VsockSocketChannel open(SocketProvider provider) throws IOException {
        return new VsockSocketChannel(provider.open(SocketType.STREAM));
    }

    /** An unconnected channel on {@link Vsock#defaultProvider()}. */
    public static VsockSocketChannel open() throws IOException {
        return open(Vsock.defaultProvider());
    }

    /** A blocking channel connected to {@code remote} on {@code provider}. */
    public static VsockSocketChannel connect(SocketProvider provider, VsockAddress remote) throws IOException {
        VsockSocketChannel c = open(provider);
        try {
            c.connect(remote);
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** A channel over a stream socket, such as one a {@link VsockServerSocketChannel} accepted. */
    public static VsockSocketChannel wrap(SocketHandle handle) {
        if (Objects.requireNonNull(handle, "handle").type() != SocketType.STREAM) {
            throw new IllegalArgumentException("a VsockSocketChannel is a stream socket, not " + handle.type());
        }
        return new VsockSocketChannel(handle);
    }

    public VsockSocketChannel bind(VsockAddress local) throws IOException {
        ensureOpen();
        handle.bind(local);
        return this;
    }

    /**
     * Connects to {@code remote}. Blocking: returns true once connected, or throws (ECONNRESET when nobody
     * listens, ETIMEDOUT). Non-blocking: sends the request and returns false; {@link Readiness#CONNECTED}
     * comes on when the answer did, and {@link #finishConnect} then tells which.
     */
    public boolean connect(VsockAddress remote) throws IOException {
        ensureOpen();
        if (isBlocking()) {
            handle.connect(remote, 0);
            return true;
        }
        handle.startConnect(remote, 0);
        return handle.finishConnect();
    }

    /** The end of a non-blocking connect: true once connected, false while pending; throws its failure. */
    public boolean finishConnect() throws IOException {
        ensureOpen();
        if (handle.isConnected()) {
            return true;
        }
        return handle.finishConnect();
    }

    public boolean isConnected() {
        return handle.isConnected();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        ensureOpen();
        if (!dst.hasRemaining()) {
            return 0;
        }
        return handle.receive(dst, isBlocking() ? 0 : MessageFlags.MSG_DONTWAIT, 0);
    }

    /**
     * Reads into {@code dsts[offset .. offset+length)} in order: the first read as {@link #read(ByteBuffer)}
     * (it may wait, in blocking mode), the rest only from what is already queued. Returns the bytes read,
     * or -1 when the stream had ended before any.
     */
    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        ensureOpen();
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            ByteBuffer dst = dsts[i];
            if (!dst.hasRemaining()) {
                continue;
            }
            int flags = isBlocking() && total == 0 ? 0 : MessageFlags.MSG_DONTWAIT;
            int n = handle.receive(dst, flags, 0);
            if (n < 0) {
                return total == 0 ? -1 : total;
            }
            total += n;
            if (n == 0 || dst.hasRemaining()) {
                break; // nothing more queued
            }
        }
        return total;
    }

    @Override
    public long read(ByteBuffer[] dsts) throws IOException {
        return read(dsts, 0, dsts.length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        ensureOpen();
        if (!src.hasRemaining()) {
            return 0;
        }
        return handle.send(src, isBlocking() ? 0 : MessageFlags.MSG_DONTWAIT, 0);
    }

    /**
     * Writes {@code srcs[offset .. offset+length)} in order: blocking, all of them; non-blocking, until the
     * peer's credit runs out. Returns the bytes written.
     */
    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        ensureOpen();
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            ByteBuffer src = srcs[i];
            if (!src.hasRemaining()) {
                continue;
            }
            total += handle.send(src, isBlocking() ? 0 : MessageFlags.MSG_DONTWAIT, 0);
            if (src.hasRemaining()) {
                break; // non-blocking, and the credit is used up
            }
        }
        return total;
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    /** shutdown(SHUT_RD). */
    public VsockSocketChannel shutdownInput() throws IOException {
        ensureOpen();
        handle.shutdown(MessageFlags.SHUTDOWN_RECEIVE);
        return this;
    }

    /** shutdown(SHUT_WR): the peer reads EOF after what was written. */
    public VsockSocketChannel shutdownOutput() throws IOException {
        ensureOpen();
        handle.shutdown(MessageFlags.SHUTDOWN_SEND);
        return this;
    }

    public VsockAddress getRemoteAddress() {
        return handle.remoteAddress();
    }

    @Override
    public String toString() {
        return "VsockSocketChannel[" + handle.localAddress() + " -> " + handle.remoteAddress() + (isBlocking() ? "" : ", non-blocking") + "]";
    }
}
