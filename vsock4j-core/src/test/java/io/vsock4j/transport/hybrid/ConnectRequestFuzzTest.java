package io.vsock4j.transport.hybrid;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Jazzer target for {@link HandshakeLine}: the CONNECT line, the one place a hybrid bridge reads bytes a
 * host program wrote before any vsock connection exists, and the OK line, what the hybrid client reads
 * from a VMM before the connection is up. An input is a chunk-size seed and the bytes; each input is
 * given to both parsers, to each one twice, whole and in chunks: a parser must never throw, must reach
 * the same verdict and value both ways (a line split across reads is the same line), must stay final
 * once final, and a complete line needs a newline within {@link HandshakeLine#MAX_LINE_BYTES} with the
 * leftover exactly the bytes after it.
 * Plain {@code mvn test} replays the seeds under src/test/resources (five written by hand, the rest what
 * a coverage run kept); to fuzz with coverage: {@code scripts/fuzz/fuzz.sh connect-request [SECONDS]}.
 */
class ConnectRequestFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void offer(FuzzedDataProvider data) {
        int chunk = data.consumeInt(1, 40);
        byte[] bytes = data.consumeRemainingAsBytes();
        check(HandshakeLine::connectRequest, chunk, bytes);
        check(HandshakeLine::okReply, chunk, bytes);
    }

    private static void check(Supplier<HandshakeLine> parser, int chunk, byte[] bytes) {
        HandshakeLine whole = parser.get();
        HandshakeLine.Status once = whole.offer(bytes, 0, bytes.length);

        HandshakeLine split = parser.get();
        HandshakeLine.Status status = HandshakeLine.Status.INCOMPLETE;
        int consumedBeforeFinal = 0;
        for (int off = 0; off < bytes.length; off += chunk) {
            int n = Math.min(chunk, bytes.length - off);
            if (status == HandshakeLine.Status.INCOMPLETE) {
                consumedBeforeFinal = off;
            }
            HandshakeLine.Status next = split.offer(bytes, off, n);
            if (status != HandshakeLine.Status.INCOMPLETE && next != status) {
                throw new AssertionError("a final status changed: " + status + " -> " + next);
            }
            status = next;
        }
        if (status != once) {
            throw new AssertionError("split reads gave " + status + ", one read " + once);
        }
        if (once == HandshakeLine.Status.COMPLETE) {
            if (split.value() != whole.value()) {
                throw new AssertionError("value " + split.value() + " split, " + whole.value() + " whole");
            }
            int newline = indexOf(bytes, (byte) '\n');
            if (newline < 0 || newline >= HandshakeLine.MAX_LINE_BYTES) {
                throw new AssertionError("a line without a newline in the first " + HandshakeLine.MAX_LINE_BYTES + " bytes");
            }
            if (!Arrays.equals(whole.leftover(), Arrays.copyOfRange(bytes, newline + 1, bytes.length))) {
                throw new AssertionError("the leftover is not the bytes after the newline");
            }
            byte[] tail = split.leftover();
            int from = newline + 1;
            if (from < consumedBeforeFinal || !Arrays.equals(tail, Arrays.copyOfRange(bytes, from, from + tail.length))) {
                throw new AssertionError("the split leftover is not the rest of the newline's chunk");
            }
        }
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
