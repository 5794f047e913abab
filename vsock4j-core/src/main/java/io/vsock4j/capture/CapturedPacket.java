package io.vsock4j.capture;

import io.vsock4j.wire.Packet;

/**
 * One record of a LINKTYPE_VSOCK capture, as {@link PcapReader} reads it.
 *
 * @param epochMicros     the record's timestamp, microseconds since 1970
 * @param opClass         the vsockmon header's op (af_vsockmon_op: CONNECT, DISCONNECT, CONTROL, PAYLOAD)
 * @param transport       the vsockmon header's transport (af_vsockmon_transport; VIRTIO for every record read)
 * @param header          the virtio header's fields; its payload is not attached (see {@code capturedPayload})
 * @param capturedPayload the payload bytes the record kept: all {@code header.len} of them, or fewer when
 *                        the capture's snapshot length cut them
 */
public record CapturedPacket(long epochMicros, int opClass, int transport, Packet header, byte[] capturedPayload) {
    /** Whether the snapshot length cut the payload. */
    public boolean truncated() {
        return capturedPayload.length < Integer.toUnsignedLong(header.len);
    }

    @Override
    public String toString() {
        return header.toString();
    }
}
