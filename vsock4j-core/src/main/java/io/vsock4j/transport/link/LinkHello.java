package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * The 16 bytes each end of a {@link UnixLink} sends once, before any frame: what a virtio device's
 * feature negotiation and config space (le64 guest_cid) settle for a real guest.
 *
 * <pre>
 *  0        4        6        8                16
 *  +--------+--------+--------+----------------+
 *  | magic  | version| features| guest_cid      |   all little-endian
 *  | le32   | le16   | le16    | le64           |
 *  +--------+--------+--------+----------------+
 * </pre>
 *
 * The host speaks first with the CID it gives the guest and the features it offers (bit
 * {@link #F_SEQPACKET}, as VIRTIO_VSOCK_F_SEQPACKET); the guest answers with the same CID and the
 * features it accepts. Anything else, or silence past the timeout, refuses the link.
 *
 * <p>Called by whichever thread sets the link up, before the link's threads start.
 */
record LinkHello(int version, int features, long guestCid) {
    static final int SIZE_BYTES = 16;
    /** "v4jl" read as a little-endian u32. */
    static final int MAGIC = 0x6c6a3476;
    static final int VERSION = 1;
    static final int F_SEQPACKET = 1 << 1;

    void write(SocketChannel ch) throws IOException {
        UnixHello.write(ch, UnixHello.start(SIZE_BYTES, MAGIC, version).putShort((short) features).putLong(guestCid));
    }

    /** Reads the peer's hello within {@code timeout}; EPROTO for a wrong magic or version. */
    static LinkHello read(SocketChannel ch, Duration timeout) throws IOException {
        ByteBuffer b = UnixHello.read(ch, SIZE_BYTES, MAGIC, VERSION, timeout, "link");
        int features = Short.toUnsignedInt(b.getShort());
        return new LinkHello(VERSION, features, b.getLong());
    }

    boolean seqpacket() {
        return (features & F_SEQPACKET) != 0;
    }

    /** The CID as a guest CID, or EPROTO when the host sent a reserved or 64-bit one. */
    int checkedGuestCid() throws IOException {
        if ((guestCid >>> 32) != 0 || !CidRules.isGuestCid((int) guestCid)) {
            throw Errno.EPROTO.exception("link hello gives reserved guest CID " + Long.toUnsignedString(guestCid));
        }
        return (int) guestCid;
    }

    @Override
    public String toString() {
        return "hello v" + version + " guest CID " + VsockAddress.cidToString((int) guestCid) + (seqpacket() ? " seqpacket" : "");
    }
}
