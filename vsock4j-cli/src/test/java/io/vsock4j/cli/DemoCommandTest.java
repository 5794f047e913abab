package io.vsock4j.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class DemoCommandTest {
    @Test
    void theDemoWalksThroughHandshakeCreditHalfCloseSeqpacketAndReset() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int code = new DemoCommand().run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(code).isZero();
        assertThat(out)
                .contains("> REQUEST", "> RESPONSE")
                .contains("server read \"hello, vsock\", client read \"hi\"")
                .contains("writer still blocked: true")
                .contains("in flight 262144 bytes, space left 0 bytes")
                .contains("> CREDIT_UPDATE")
                .contains("the writer finished: all 384 KiB delivered")
                .contains("flags=SEND", "flags=RCV|SEND", "> RST")
                .contains("received \"one\" (3 bytes)", "cut to the 8-byte buffer: MSG_TRUNC, MSG_EOR")
                .contains("ConnectException: ECONNRESET")
                // The nested picture: each route, the transport that carried it, and who answered.
                .containsPattern("L1 -> CID 1 +via L1 LOCAL answered by L1")
                .containsPattern("L1 -> CID 3 +via L1 LOCAL answered by L1")
                .containsPattern("L1 -> CID 2 +via L1 G2H +answered by L0")
                .containsPattern("L1 -> CID 4 +via L1 H2G +answered by L2")
                .containsPattern("L1 -> CID 9 +fails: ENODEV")
                .containsPattern("L2 -> CID 2 +via L2 G2H +answered by L1")
                .containsPattern("L2 -> CID 1 +via L2 LOCAL answered by L2")
                .containsPattern("L0 -> CID 3 +via L0 H2G +answered by L1")
                .containsPattern("L0 -> CID 4 +fails: ENODEV");
    }
}
