package io.vsock4j.transport.shared;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vsock4j.transport.link.FrameDecoder;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Jazzer target for what a shared machine's daemon and its processes read from each other: the link's
 * frames ({@link FrameDecoder}, shared with cross-process links) and, inside control frames, the le32
 * lists of GONE and GUESTS ({@link SharedWire#list}). An input is a chunk size and the stream's bytes.
 * Whatever they are, the decoder gives well-formed packets (payload exactly {@code len}, at most
 * 64 KiB) or throws its FrameException, and nothing else; the same stream fed whole and in chunks
 * gives the same packets; and every control frame's list has {@code len / 4} entries, the bytes of its
 * payload in order, whatever its length. (FrameDecoderFuzzTest covers the decoder with seeded random
 * inputs in every build; this target adds coverage feedback.)
 * Plain {@code mvn test} replays the seeds under src/test/resources; to fuzz with coverage:
 * {@code scripts/fuzz/fuzz.sh shared-wire [SECONDS]}.
 */
class SharedWireFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void frames(FuzzedDataProvider data) {
        int chunk = data.consumeInt(1, 200);
        byte[] bytes = data.consumeRemainingAsBytes();
        List<Packet> whole = new ArrayList<>();
        boolean wholeRejected = decode(bytes, bytes.length == 0 ? 1 : bytes.length, whole);
        List<Packet> split = new ArrayList<>();
        boolean splitRejected = decode(bytes, chunk, split);
        if (wholeRejected != splitRejected || whole.size() != split.size()) {
            throw new AssertionError("whole: " + whole.size() + " packets" + (wholeRejected ? ", rejected" : "")
                    + "; in chunks of " + chunk + ": " + split.size() + (splitRejected ? ", rejected" : ""));
        }
        for (int i = 0; i < whole.size(); i++) {
            if (!Arrays.equals(whole.get(i).payloadBytes(), split.get(i).payloadBytes())) {
                throw new AssertionError("packet " + i + "'s payload differs when fed in chunks of " + chunk);
            }
            checkControl(whole.get(i));
        }
    }

    /** Decodes {@code bytes} fed {@code chunk} at a time; true when the decoder rejected the stream. */
    private static boolean decode(byte[] bytes, int chunk, List<Packet> out) {
        FrameDecoder d = new FrameDecoder();
        try {
            for (int off = 0; off < bytes.length; off += chunk) {
                ByteBuffer in = ByteBuffer.wrap(bytes, off, Math.min(chunk, bytes.length - off));
                for (Packet p; (p = d.next(in)) != null; ) {
                    if (Integer.compareUnsigned(p.len, VirtioVsock.MAX_PACKET_PAYLOAD_BYTES) > 0
                            || (p.len > 0 && p.payload.length - p.payloadOffset < p.len)) {
                        throw new AssertionError("a malformed packet: " + p);
                    }
                    out.add(p);
                }
                if (in.hasRemaining()) {
                    throw new AssertionError("next() returned null with input left");
                }
            }
            return false;
        } catch (FrameDecoder.FrameException e) {
            return true;
        }
    }

    private static void checkControl(Packet p) {
        if (p.type != SharedWire.TYPE_CONTROL || (p.op != SharedWire.OP_GONE && p.op != SharedWire.OP_GUESTS)) {
            return;
        }
        int[] list = SharedWire.list(p);
        if (list.length != p.len / Integer.BYTES) {
            throw new AssertionError(list.length + " entries from a " + p.len + "-byte payload");
        }
        ByteBuffer b = ByteBuffer.wrap(p.payload, p.payloadOffset, p.len).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int entry : list) {
            if (entry != b.getInt()) {
                throw new AssertionError("a list entry is not its le32 in the payload");
            }
        }
    }
}
