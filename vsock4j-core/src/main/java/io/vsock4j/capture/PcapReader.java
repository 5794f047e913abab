package io.vsock4j.capture;

import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.wire.VirtioVsockHeader;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a classic pcap file of link type LINKTYPE_VSOCK, as tcpdump writes from a vsockmon device and
 * {@link PcapWriter} writes: for tools and tests that look at captured packets. Either byte order,
 * microsecond or nanosecond timestamps. Stateless; any thread.
 */
public final class PcapReader {
    private PcapReader() {
    }

    /** Every record of {@code file}, in order. */
    public static List<CapturedPacket> read(Path file) throws IOException {
        try {
            return read(ByteBuffer.wrap(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Every record of a whole pcap file held in {@code pcap}. */
    public static List<CapturedPacket> read(ByteBuffer pcap) throws IOException {
        ByteBuffer b = pcap.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < PcapWriter.FILE_HEADER_BYTES) {
            throw new IOException("not a pcap file: " + b.remaining() + " bytes");
        }
        int magic = b.getInt(0);
        if (Integer.reverseBytes(magic) == PcapWriter.MAGIC_MICROS || Integer.reverseBytes(magic) == PcapWriter.MAGIC_NANOS) {
            b.order(ByteOrder.BIG_ENDIAN);
            magic = Integer.reverseBytes(magic);
        }
        if (magic != PcapWriter.MAGIC_MICROS && magic != PcapWriter.MAGIC_NANOS) {
            throw new IOException("not a pcap file: magic " + Integer.toHexString(magic));
        }
        int linkType = b.getInt(20);
        if (linkType != Vsockmon.LINKTYPE_VSOCK) {
            throw new IOException("link type " + linkType + ", not LINKTYPE_VSOCK (" + Vsockmon.LINKTYPE_VSOCK + ")");
        }
        boolean nanos = magic == PcapWriter.MAGIC_NANOS;
        b.position(PcapWriter.FILE_HEADER_BYTES);
        List<CapturedPacket> packets = new ArrayList<>();
        try {
            while (b.hasRemaining()) {
                packets.add(record(b, nanos, packets.size() + 1));
            }
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new IOException("record " + (packets.size() + 1) + " is cut short");
        }
        return packets;
    }

    private static CapturedPacket record(ByteBuffer b, boolean nanos, int number) throws IOException {
        long seconds = Integer.toUnsignedLong(b.getInt());
        long fraction = Integer.toUnsignedLong(b.getInt());
        int kept = b.getInt();
        b.getInt(); // orig_len: the payload's real length is the virtio header's len
        if (kept < PcapWriter.HEADERS_BYTES || kept > b.remaining()) {
            throw new IOException("record " + number + " keeps " + Integer.toUnsignedString(kept) + " bytes, "
                    + b.remaining() + " left; at least " + PcapWriter.HEADERS_BYTES + " needed");
        }
        ByteBuffer rec = b.slice(b.position(), kept).order(ByteOrder.LITTLE_ENDIAN);
        b.position(b.position() + kept);
        int opClass = Short.toUnsignedInt(rec.getShort(Vsockmon.OFFSET_OP));
        int transport = Short.toUnsignedInt(rec.getShort(Vsockmon.OFFSET_TRANSPORT));
        int headerLen = Short.toUnsignedInt(rec.getShort(Vsockmon.OFFSET_LEN));
        if (transport != Vsockmon.TRANSPORT_VIRTIO || headerLen != VirtioVsock.HEADER_SIZE_BYTES) {
            throw new IOException("record " + number + ": transport " + transport + " with a " + headerLen
                    + "-byte header, not virtio's 44");
        }
        Packet header = VirtioVsockHeader.decode(rec.position(Vsockmon.HEADER_SIZE_BYTES));
        byte[] payload = Arrays.copyOfRange(rec.array(), rec.arrayOffset() + rec.position(), rec.arrayOffset() + kept);
        if (payload.length > Integer.toUnsignedLong(header.len)) {
            throw new IOException("record " + number + " carries " + payload.length + " payload bytes, its header says "
                    + Integer.toUnsignedString(header.len));
        }
        long micros = seconds * 1_000_000L + (nanos ? fraction / 1_000 : fraction);
        return new CapturedPacket(micros, opClass, transport, header, payload);
    }
}
