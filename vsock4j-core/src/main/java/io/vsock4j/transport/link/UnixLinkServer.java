package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

/**
 * The host side of cross-process links: listens on a Unix socket path and runs every process that
 * connects as a guest of a {@link HostTransport}, giving it the lowest free CID from {@code firstCid}
 * up, as a VMM would assign guest CIDs.
 *
 * <p>Threads: a {@link UnixAcceptor}: one daemon acceptor thread, and each hello on its own virtual
 * thread so a silent peer delays nobody. {@link #close()} stops accepting and removes the socket file;
 * running guests stay until the host transport closes.
 */
public final class UnixLinkServer implements AutoCloseable {
    /** How long close waits for the accept loop to notice the closed channel. */
    private static final Duration ACCEPTOR_EXIT_WAIT = Duration.ofSeconds(5);

    private final ServerSocketChannel server;
    private final Path path;
    private final HostTransport h2g;
    private final int firstCid;
    private final Object cidLock = new Object();
    /** CIDs promised to guests still in their hello. Guarded by cidLock. */
    private final Set<Integer> promised = new HashSet<>();
    private final UnixAcceptor acceptor;

    private UnixLinkServer(ServerSocketChannel server, Path path, HostTransport h2g, int firstCid) {
        this.server = server;
        this.path = path;
        this.h2g = h2g;
        this.firstCid = firstCid;
        // Last, so the accept thread sees every field set. A peer that fails its hello is disconnected
        // and forgotten: nothing to report.
        this.acceptor = UnixAcceptor.start(server, "vsock4j-link", this::admit, refusedWhy -> { });
    }

    /** Listens on {@code path} (which must not exist) for guests of {@code h2g}, a started host transport. */
    public static UnixLinkServer serve(Path path, HostTransport h2g, int firstCid) throws IOException {
        if (!CidRules.isGuestCid(firstCid)) {
            throw new IllegalArgumentException("first guest CID " + VsockAddress.cidToString(firstCid) + " is reserved");
        }
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new UnixLinkServer(ch, path, h2g, firstCid);
    }

    /** Hello, CID, attach; throws (and the acceptor disconnects the peer) when any of it fails. */
    private void admit(SocketChannel ch) throws IOException {
        int cid;
        synchronized (cidLock) {
            cid = firstCid;
            while (h2g.reaches(cid) || promised.contains(cid)) {
                cid++;
            }
            promised.add(cid);
        }
        try {
            UnixLinks.hostSide(ch, h2g, cid);
        } finally {
            synchronized (cidLock) {
                promised.remove(cid); // attached by now, or free again
            }
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() throws IOException {
        server.close();
        try {
            acceptor.awaitEnd(ACCEPTOR_EXIT_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(path);
    }
}
