package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.AsynchronousCloseException;
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
        ByteBuffer b = ByteBuffer.allocate(SIZE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putShort((short) version).putShort((short) features).putLong(guestCid).flip();
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Reads the peer's hello within {@code timeout}; EPROTO for a wrong magic or version. */
    static LinkHello read(SocketChannel ch, Duration timeout) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(SIZE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        Thread watchdog = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(timeout);
                ch.close(); // wakes the blocked read below
            } catch (InterruptedException | IOException done) {
                // The hello came in time, or the channel is closed anyway.
            }
        });
        try {
            while (b.hasRemaining()) {
                if (ch.read(b) < 0) {
                    throw Errno.ECONNRESET.exception("link peer closed during the hello");
                }
            }
        } catch (AsynchronousCloseException e) {
            throw Errno.ETIMEDOUT.exception("no link hello within " + timeout.toMillis() + " ms");
        } finally {
            watchdog.interrupt();
        }
        b.flip();
        int magic = b.getInt();
        int version = Short.toUnsignedInt(b.getShort());
        int features = Short.toUnsignedInt(b.getShort());
        long cid = b.getLong();
        if (magic != MAGIC || version != VERSION) {
            throw Errno.EPROTO.exception("not a vsock4j link hello (magic 0x" + Integer.toHexString(magic)
                    + ", version " + version + ")");
        }
        return new LinkHello(version, features, cid);
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
