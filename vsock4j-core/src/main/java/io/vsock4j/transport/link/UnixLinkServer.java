package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * The host side of cross-process links: listens on a Unix socket path and runs every process that
 * connects as a guest of a {@link HostTransport}, giving it the lowest free CID from {@code firstCid}
 * up, as a VMM would assign guest CIDs.
 *
 * <p>Threads: one daemon acceptor thread; each hello runs on its own virtual thread so a silent peer
 * delays nobody. {@link #close()} stops accepting and removes the socket file; running guests stay
 * until the host transport closes.
 */
public final class UnixLinkServer implements AutoCloseable {
    private final ServerSocketChannel server;
    private final Path path;
    private final HostTransport h2g;
    private final int firstCid;
    private final Object cidLock = new Object();
    /** CIDs promised to guests still in their hello. Guarded by cidLock. */
    private final Set<Integer> promised = new HashSet<>();
    private final Thread acceptor;

    private UnixLinkServer(ServerSocketChannel server, Path path, HostTransport h2g, int firstCid) {
        this.server = server;
        this.path = path;
        this.h2g = h2g;
        this.firstCid = firstCid;
        this.acceptor = Thread.ofPlatform().name("vsock4j-link-accept").daemon(true).unstarted(this::acceptLoop);
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
        UnixLinkServer s = new UnixLinkServer(ch, path, h2g, firstCid);
        s.acceptor.start();
        return s;
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException closed) {
                return;
            }
            Thread.ofVirtual().name("vsock4j-link-hello").start(() -> admit(ch));
        }
    }

    /** Hello, CID, attach; a peer that fails any of it is disconnected and forgotten. */
    private void admit(SocketChannel ch) {
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
        } catch (IOException | RuntimeException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // Already refused.
            }
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
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(path);
    }
}
