package io.vsock4j.transport.link;

import io.vsock4j.wire.Packet;
import io.vsock4j.wire.PayloadPool;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.wire.VirtioVsockHeader;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Cuts the byte stream of a {@link UnixLink} into virtio-vsock packets. A frame is exactly what a
 * virtqueue buffer holds: the 44-byte header ({@link VirtioVsockHeader}) and then {@code len} payload
 * bytes, nothing else.
 *
 * <pre>
 *  +------------------------------+---------------------------+------------------------------+---
 *  | virtio_vsock_hdr (44 bytes)  | payload (hdr.len bytes)   | virtio_vsock_hdr (44 bytes)  | ...
 *  +------------------------------+---------------------------+------------------------------+---
 * </pre>
 *
 * The peer is not trusted. The only thing the stream itself can get wrong is a length: {@code len}
 * above {@link VirtioVsock#MAX_PACKET_PAYLOAD_BYTES} is a {@link FrameException} and the link is
 * dropped, since nothing after it can be trusted to start a frame (vhost drops such a buffer). Memory
 * is bounded by one header and one payload of at most 64 KiB. Everything else a header may say
 * (CIDs, ops, types, credit) is for the transport and the engine to check.
 *
 * <p>Single thread: the link's reader.
 */
public final class FrameDecoder {
    private final byte[] header = new byte[VirtioVsock.HEADER_SIZE_BYTES];
    private int headerFill;
    /** The packet whose payload is being read, or null between frames. */
    private Packet pending;
    private int payloadFill;

    /** The stream broke the framing; the link must be dropped. */
    public static final class FrameException extends IOException {
        public FrameException(String message) {
            super(message);
        }
    }

    /**
     * Consumes bytes from {@code in} up to the end of the next frame.
     *
     * @return the next whole packet, or null when {@code in} ran out first (all of it was consumed)
     * @throws FrameException on a length no frame may have
     */
    public Packet next(ByteBuffer in) throws FrameException {
        if (pending == null) {
            int n = Math.min(header.length - headerFill, in.remaining());
            in.get(header, headerFill, n);
            headerFill += n;
            if (headerFill < header.length) {
                return null;
            }
            headerFill = 0;
            Packet p = VirtioVsockHeader.decode(ByteBuffer.wrap(header));
            if (Integer.compareUnsigned(p.len, VirtioVsock.MAX_PACKET_PAYLOAD_BYTES) > 0) {
                throw new FrameException("frame len " + Integer.toUnsignedString(p.len) + " above "
                        + VirtioVsock.MAX_PACKET_PAYLOAD_BYTES + " bytes");
            }
            if (p.len == 0) {
                return p;
            }
            p.payload = PayloadPool.take(p.len); // a full-size one goes back when the packet is done with
            pending = p;
            payloadFill = 0;
        }
        int n = Math.min(pending.len - payloadFill, in.remaining());
        in.get(pending.payload, payloadFill, n);
        payloadFill += n;
        if (payloadFill < pending.len) {
            return null;
        }
        Packet done = pending;
        pending = null;
        return done;
    }

    /** Whether a frame has begun and not ended: at end of stream, a truncated frame. */
    public boolean midFrame() {
        return headerFill > 0 || pending != null;
    }

    /** The frame of {@code p}: its header and its payload, ready for a gathering write. */
    public static ByteBuffer[] encode(Packet p) {
        ByteBuffer header = ByteBuffer.wrap(VirtioVsockHeader.encode(p));
        ByteBuffer payload = ByteBuffer.wrap(p.payload, p.payloadOffset, p.len);
        return new ByteBuffer[] {header, payload};
    }
}
