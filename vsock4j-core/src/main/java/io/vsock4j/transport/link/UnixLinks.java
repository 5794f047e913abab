package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Sets up links between processes over Unix domain sockets: the host side serves a socket path
 * ({@link UnixLinkServer}) and gives each guest that connects a CID; a guest process connects with
 * {@link #connectGuest}. Any thread; each call blocks only for the hello.
 */
public final class UnixLinks {
    /** How long either side waits for the other's hello. */
    public static final Duration HELLO_TIMEOUT = Duration.ofSeconds(5);

    private UnixLinks() {
    }

    /**
     * Connects to a host's link socket and returns this process's G2H transport, with the CID the host
     * gave it. Build a machine with it: {@code Machine.builder().transport(UnixLinks.connectGuest(path))}.
     */
    public static GuestTransport connectGuest(Path socketPath) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socketPath));
            return guestSide(ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The guest half of the hello on a connected channel: read the host's, echo the CID, accept features. */
    static GuestTransport guestSide(SocketChannel ch) throws IOException {
        LinkHello offer = LinkHello.read(ch, HELLO_TIMEOUT);
        int cid = offer.checkedGuestCid();
        int accepted = offer.features() & LinkHello.F_SEQPACKET;
        new LinkHello(LinkHello.VERSION, accepted, offer.guestCid()).write(ch);
        UnixLink link = new UnixLink(ch, "guest-cid" + VsockAddress.cidToString(cid));
        return new GuestTransport(link, cid, (accepted & LinkHello.F_SEQPACKET) != 0);
    }

    /**
     * The host half of the hello on a connected channel: offer {@code guestCid}, check the echo, then
     * run the guest on {@code h2g}.
     */
    static void hostSide(SocketChannel ch, HostTransport h2g, int guestCid) throws IOException {
        h2g.checkGuestCid(guestCid);
        new LinkHello(LinkHello.VERSION, LinkHello.F_SEQPACKET, Integer.toUnsignedLong(guestCid)).write(ch);
        LinkHello answer = LinkHello.read(ch, HELLO_TIMEOUT);
        if (answer.guestCid() != Integer.toUnsignedLong(guestCid)) {
            throw io.vsock4j.spi.Errno.EPROTO.exception("guest answered the hello for CID "
                    + Long.toUnsignedString(answer.guestCid()) + ", not " + VsockAddress.cidToString(guestCid));
        }
        UnixLink link = new UnixLink(ch, "host-cid" + VsockAddress.cidToString(guestCid));
        h2g.attach(guestCid, link, answer.seqpacket());
    }
}
