package io.vsock4j.wire;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Jazzer target for {@link VirtioVsockHeader}: the 44 bytes every guest, link peer and capture file puts
 * in front of a packet. Any bytes decode (fewer than 44: BufferUnderflowException, as documented, and
 * nothing consumed); decoding then encoding gives the same 44 bytes back, so no field is lost or
 * widened; {@link VirtioVsockHeader#validate} never throws, and a header it passes has 32-bit CIDs, a
 * len within one packet, and a payload only on RW, the three things the engine relies on.
 * Plain {@code mvn test} replays the seeds under src/test/resources; to fuzz with coverage:
 * {@code scripts/fuzz/fuzz.sh virtio-header [SECONDS]}.
 */
class VirtioVsockHeaderFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void decode(FuzzedDataProvider data) {
        byte[] bytes = data.consumeRemainingAsBytes();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        Packet p;
        try {
            p = VirtioVsockHeader.decode(in);
        } catch (BufferUnderflowException e) {
            if (bytes.length >= VirtioVsock.HEADER_SIZE_BYTES || in.position() != 0) {
                throw new AssertionError("underflow with " + bytes.length + " bytes, position " + in.position());
            }
            return;
        }
        if (in.position() != VirtioVsock.HEADER_SIZE_BYTES) {
            throw new AssertionError("decode consumed " + in.position() + " bytes");
        }
        byte[] again = VirtioVsockHeader.encode(p);
        if (!Arrays.equals(again, 0, again.length, bytes, 0, VirtioVsock.HEADER_SIZE_BYTES)) {
            throw new AssertionError("encode(decode(h)) differs from h for " + p);
        }
        String invalid = VirtioVsockHeader.validate(p);
        if (invalid == null) {
            boolean cidsFit = (p.srcCid >>> 32) == 0 && (p.dstCid >>> 32) == 0;
            boolean lenFits = Integer.compareUnsigned(p.len, VirtioVsock.MAX_PACKET_PAYLOAD_BYTES) <= 0;
            boolean payloadOnlyOnRw = p.len == 0 || p.op == VirtioVsock.OP_RW;
            if (!cidsFit || !lenFits || !payloadOnlyOnRw) {
                throw new AssertionError("validate passed " + p);
            }
        }
    }
}
