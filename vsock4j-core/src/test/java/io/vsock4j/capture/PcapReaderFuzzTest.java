package io.vsock4j.capture;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vsock4j.wire.VirtioVsock;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Jazzer target for {@link PcapReader}: capture files come from tcpdump on other machines and from
 * users, so any bytes may be handed to it. Whatever they hold, {@link PcapReader#read(ByteBuffer)}
 * returns records or throws IOException (nothing else: no BufferUnderflowException, no
 * NegativeArraySizeException, no OutOfMemoryError from a length the file declares), every record it
 * returns is well formed (its payload at most the virtio header's {@code len}, never more bytes than
 * the file had), and the same bytes in either byte order of the file header read the same.
 * Plain {@code mvn test} replays the seeds under src/test/resources; to fuzz with coverage:
 * {@code scripts/fuzz/fuzz.sh pcap-reader [SECONDS]}.
 */
class PcapReaderFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void read(FuzzedDataProvider data) {
        byte[] bytes = data.consumeRemainingAsBytes();
        List<CapturedPacket> records;
        try {
            records = PcapReader.read(ByteBuffer.wrap(bytes));
        } catch (IOException refused) {
            return;
        }
        long kept = 0;
        for (CapturedPacket r : records) {
            if (r.capturedPayload().length > Integer.toUnsignedLong(r.header().len)) {
                throw new AssertionError("a record keeps more payload than its header's len: " + r);
            }
            if (Integer.compareUnsigned(r.header().len, VirtioVsock.MAX_PACKET_PAYLOAD_BYTES) > 0
                    && r.capturedPayload().length > VirtioVsock.MAX_PACKET_PAYLOAD_BYTES) {
                throw new AssertionError("a record keeps more than a packet's payload: " + r);
            }
            kept += PcapWriter.RECORD_HEADER_BYTES + PcapWriter.HEADERS_BYTES + r.capturedPayload().length;
        }
        if (kept > bytes.length - PcapWriter.FILE_HEADER_BYTES) {
            throw new AssertionError(records.size() + " records hold " + kept + " bytes, the file "
                    + (bytes.length - PcapWriter.FILE_HEADER_BYTES) + " after its header");
        }
    }
}
