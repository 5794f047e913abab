package io.vsock4j.capture;

import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.wire.VirtioVsockHeader;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes vsock packets as a classic pcap file (the format tcpdump -w writes) with link type
 * LINKTYPE_VSOCK: each record is the 32-byte vsockmon header, the 44-byte virtio-vsock header and the
 * payload, cut at the snapshot length. Not thread-safe: one owner ({@link Capture} calls it under its lock).
 *
 * <pre>
 * file header (24 bytes, little-endian): magic a1b2c3d4 (microsecond timestamps), version 2.4,
 *     thiszone 0, sigfigs 0, snaplen, network 271
 * per record (16 bytes): ts_sec, ts_usec, incl_len (bytes stored), orig_len (bytes of the packet)
 * </pre>
 */
public final class PcapWriter {
    /** Classic pcap, microsecond timestamps. */
    public static final int MAGIC_MICROS = 0xa1b2c3d4;
    /** The same with nanosecond timestamps (read, never written). */
    public static final int MAGIC_NANOS = 0xa1b23c4d;
    public static final int FILE_HEADER_BYTES = 24;
    public static final int RECORD_HEADER_BYTES = 16;
    /** The vsockmon and virtio headers: the least a record holds, so every header field is there to dissect. */
    public static final int HEADERS_BYTES = Vsockmon.HEADER_SIZE_BYTES + VirtioVsock.HEADER_SIZE_BYTES;

    private final OutputStream out;
    private final int snaplen;
    private final ByteBuffer head = ByteBuffer.allocate(RECORD_HEADER_BYTES + HEADERS_BYTES).order(ByteOrder.LITTLE_ENDIAN);

    /**
     * Writes the file header.
     *
     * @param snaplen bytes kept of each record, at least {@link #HEADERS_BYTES}: longer payloads are cut
     */
    public PcapWriter(OutputStream out, int snaplen) throws IOException {
        if (snaplen < HEADERS_BYTES) {
            throw new IllegalArgumentException("snaplen " + snaplen + " is below " + HEADERS_BYTES
                    + " bytes, the vsockmon and virtio headers");
        }
        this.out = out;
        this.snaplen = snaplen;
        ByteBuffer h = ByteBuffer.allocate(FILE_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(MAGIC_MICROS).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0)
                .putInt(snaplen).putInt(Vsockmon.LINKTYPE_VSOCK);
        out.write(h.array());
    }

    public int snaplen() {
        return snaplen;
    }

    /** Writes one record for {@code p}, stamped {@code epochMicros} (microseconds since 1970). */
    public void write(long epochMicros, Packet p) throws IOException {
        int payload = p.len;
        long whole = (long) HEADERS_BYTES + Integer.toUnsignedLong(payload);
        int kept = (int) Math.min(whole, snaplen);
        head.clear();
        head.putInt((int) Math.floorDiv(epochMicros, 1_000_000L));
        head.putInt((int) Math.floorMod(epochMicros, 1_000_000L));
        head.putInt(kept);
        head.putInt((int) Math.min(whole, 0xFFFF_FFFFL));
        Vsockmon.encode(p, head);
        VirtioVsockHeader.encode(p, head);
        out.write(head.array(), 0, head.position());
        if (kept > HEADERS_BYTES) {
            out.write(p.payload, p.payloadOffset, kept - HEADERS_BYTES);
        }
    }
}
