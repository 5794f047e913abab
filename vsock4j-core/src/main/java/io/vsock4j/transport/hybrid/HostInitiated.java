package io.vsock4j.transport.hybrid;

import io.vsock4j.SocketProvider;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSocket;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * Host to guest: the Unix socket at {@code uds-path} that host programs connect to. Per connection the
 * protocol is Firecracker's:
 * <pre>
 *   host program                        bridge                               guest
 *   connect(uds-path)  ----------->  accept
 *   "CONNECT 5000\n"   ----------->  read the line (HandshakeLine)
 *                                    connect (guest CID, 5000) -- REQUEST -->  listener on 5000
 *                                                              <-- RESPONSE --
 *                      <-----------  "OK 1074\n"  (1074: the host-side port the guest sees as its peer's)
 *   bytes both ways, half-closes passed on (Splice)
 * </pre>
 * A line that is not {@code CONNECT <port>}, is longer than 32 bytes, or a client that closes before its
 * newline: that one Unix connection is closed. No guest listener on the port, or no answer within the
 * connect timeout (2 s): the Unix connection is closed with no reply, as Firecracker does. A client
 * may keep the connection open without a line for as long as it likes; closing the bridge ends it.
 *
 * <p>Threads: one platform thread accepts ("hybrid accept PATH"); each accepted connection gets a
 * virtual thread that reads its line and connects, then hands the two sockets to a {@link Splice}.
 * {@link #close} from any thread.
 */
final class HostInitiated implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HostInitiated.class.getName());

    private final SocketProvider host;
    private final int guestCid;
    private final Path path;
    private final ServerSocketChannel server;
    private final Workers workers;
    private final Set<Splice> live;
    private final AtomicBoolean closing;
    /** Connections still reading their CONNECT line or connecting, closed by {@link #close}. */
    private final Set<SocketChannel> pending = ConcurrentHashMap.newKeySet();

    private HostInitiated(SocketProvider host, int guestCid, Path path, ServerSocketChannel server, Workers workers,
                          Set<Splice> live, AtomicBoolean closing) {
        this.host = host;
        this.guestCid = guestCid;
        this.path = path;
        this.server = server;
        this.workers = workers;
        this.live = live;
        this.closing = closing;
    }

    /** Listens at {@code path} and starts accepting. */
    static HostInitiated start(SocketProvider host, int guestCid, Path path, Workers workers, Set<Splice> live,
                               AtomicBoolean closing) throws IOException {
        HostInitiated h = new HostInitiated(host, guestCid, path, UnixSockets.listen(path), workers, live, closing);
        workers.platform("hybrid accept " + path, h::acceptLoop);
        return h;
    }

    private void acceptLoop() {
        try {
            while (true) {
                SocketChannel c = server.accept();
                pending.add(c);
                if (closing.get()) {
                    closeQuietly(c);
                    return;
                }
                workers.virtual("hybrid connect " + path, () -> serve(c));
            }
        } catch (ClosedChannelException e) {
            // close(): the normal end
        } catch (IOException e) {
            LOG.log(WARNING, "hybrid " + path + ": stopped accepting", e);
        }
    }

    private void serve(SocketChannel c) {
        boolean handedOff = false;
        try {
            HandshakeLine request = readRequest(c);
            if (request == null) {
                return;
            }
            VsockAddress guest = VsockAddress.of(guestCid, request.value());
            VsockSocket s;
            try {
                s = VsockSocket.connect(host, guest);
            } catch (IOException e) {
                LOG.log(DEBUG, "hybrid {0}: connect to {1} failed ({2}); closing without a reply", path, guest, e.getMessage());
                return;
            }
            try {
                String ok = "OK " + Integer.toUnsignedString(s.getLocalAddress().port()) + "\n";
                UnixSockets.writeAll(c, ok.getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                closeQuietly(s);
                return;
            }
            LOG.log(DEBUG, "hybrid {0}: connected to {1} from {2}", path, guest, s.getLocalAddress());
            pending.remove(c);
            handedOff = true;
            Splice.start(s, c, request.leftover(), workers, live, closing, "hybrid " + guest);
        } catch (IOException e) {
            LOG.log(DEBUG, "hybrid {0}: connection dropped before its CONNECT line ({1})", path, e.getMessage());
        } finally {
            if (!handedOff) {
                pending.remove(c);
                closeQuietly(c);
            }
        }
    }

    /** The request, or null after closing nothing: the caller closes {@code c}. */
    private HandshakeLine readRequest(SocketChannel c) throws IOException {
        HandshakeLine request = HandshakeLine.connectRequest();
        if (request.readFrom(c) == HandshakeLine.Status.INCOMPLETE) {
            LOG.log(DEBUG, "hybrid {0}: client closed before its CONNECT line ended", path);
            return null;
        }
        if (request.status() == HandshakeLine.Status.INVALID) {
            LOG.log(INFO, "hybrid {0}: refused a request: {1}", path, request.problem());
            return null;
        }
        return request;
    }

    /** Stops accepting, closes connections still in their request, removes the socket file. */
    @Override
    public void close() {
        closeQuietly(server);
        for (SocketChannel c : pending) {
            closeQuietly(c);
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(WARNING, "hybrid: removing " + path + " failed", e);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // Closing releases the descriptor either way.
        }
    }
}
