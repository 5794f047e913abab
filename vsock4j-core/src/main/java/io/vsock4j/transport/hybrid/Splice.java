package io.vsock4j.transport.hybrid;

import io.vsock4j.VsockSocket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One bridged connection: a vsock stream socket and a Unix stream socket joined byte for byte, each
 * direction on its own virtual thread. Half-closes cross over as they do in a TCP proxy: end of stream
 * read on one side becomes {@code shutdownOutput} on the other, so a client that sends a request and
 * shuts its output still reads the whole answer. When both directions have ended the two sockets are
 * closed. An error in either direction (a reset, a write into a closed peer) closes both at once,
 * which the vsock peer sees as a reset and the Unix peer as a broken connection.
 *
 * <p>Threads: the two pump threads own the reading of their side; {@link #close} may be called from any
 * thread (the bridge's close) and wakes both. The splice removes itself from the owner's set of live
 * splices when it is done.
 */
final class Splice implements AutoCloseable {
    private static final int CHUNK_BYTES = 64 * 1024;

    private final VsockSocket vsock;
    private final SocketChannel unix;
    private final Set<Splice> live;
    private final AtomicInteger directionsLeft = new AtomicInteger(2);
    private final AtomicBoolean closed = new AtomicBoolean();

    private Splice(VsockSocket vsock, SocketChannel unix, Set<Splice> live) {
        this.vsock = vsock;
        this.unix = unix;
        this.live = live;
    }

    /**
     * Joins {@code vsock} and {@code unix}; {@code firstToVsock} (bytes already read from the Unix side)
     * is sent to the vsock side before anything else. Takes ownership of both sockets.
     *
     * @param live the owner's live splices; this one is in it until it is done
     * @param closing whether the owner is closing: then the sockets are closed at once, not pumped
     */
    static void start(VsockSocket vsock, SocketChannel unix, byte[] firstToVsock, Workers workers,
                      Set<Splice> live, AtomicBoolean closing, String name) {
        Splice s = new Splice(vsock, unix, live);
        live.add(s);
        if (closing.get()) {
            s.close(); // the owner's close may have walked the set before this one was added
            return;
        }
        workers.virtual(name + " unix->vsock", () -> s.unixToVsock(firstToVsock));
        workers.virtual(name + " vsock->unix", s::vsockToUnix);
    }

    private void unixToVsock(byte[] first) {
        try {
            OutputStream out = vsock.getOutputStream();
            out.write(first);
            ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES);
            while (unix.read(buf.clear()) >= 0) {
                out.write(buf.array(), 0, buf.position());
            }
            vsock.shutdownOutput();
            finished();
        } catch (IOException e) {
            close();
        }
    }

    private void vsockToUnix() {
        try {
            InputStream in = vsock.getInputStream();
            byte[] buf = new byte[CHUNK_BYTES];
            for (int n; (n = in.read(buf)) >= 0; ) {
                ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                while (b.hasRemaining()) {
                    unix.write(b);
                }
            }
            unix.shutdownOutput();
            finished();
        } catch (IOException e) {
            close();
        }
    }

    private void finished() {
        if (directionsLeft.decrementAndGet() == 0) {
            close();
        }
    }

    /** Closes both sockets, which ends both pumps. Idempotent, any thread. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            vsock.close();
        } catch (IOException e) {
            // Closing releases the socket either way.
        }
        try {
            unix.close();
        } catch (IOException e) {
            // Likewise.
        }
        live.remove(this);
    }
}
