package io.vsock4j.transport.hybrid;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ConnectRequestTest {
    private static HandshakeLine.Status offer(HandshakeLine r, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        return r.offer(b, 0, b.length);
    }

    @Test
    void aLineSplitAcrossReadsIsWholeAtItsNewline() {
        HandshakeLine r = HandshakeLine.connectRequest();
        assertThat(offer(r, "CON")).isEqualTo(HandshakeLine.Status.INCOMPLETE);
        assertThat(offer(r, "NECT 52")).isEqualTo(HandshakeLine.Status.INCOMPLETE);
        assertThat(offer(r, "\n")).isEqualTo(HandshakeLine.Status.COMPLETE);
        assertThat(r.value()).isEqualTo(52);
        assertThat(r.leftover()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"connect 52\n", "Connect 52\n", "CONNECT 52\r\n", "  CONNECT\t52  \n", "cOnNeCt 00052\n"})
    void theKeywordIsCaseInsensitiveAndWordsSplitOnWhitespace(String line) {
        HandshakeLine r = HandshakeLine.connectRequest();
        assertThat(offer(r, line)).isEqualTo(HandshakeLine.Status.COMPLETE);
        assertThat(r.value()).isEqualTo(52);
    }

    @Test
    void portsAreUnsigned32Bit() {
        HandshakeLine r = HandshakeLine.connectRequest();
        assertThat(offer(r, "CONNECT 4294967294\n")).isEqualTo(HandshakeLine.Status.COMPLETE);
        assertThat(Integer.toUnsignedString(r.value())).isEqualTo("4294967294");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\n", "HELLO 52\n", "CONNECT\n", "CONNECT x\n", "CONNECT -1\n", "CONNECT 4294967295\n",
            "CONNECT 4294967296\n", "CONNECT 52 53\n", "CONNECT52\n", "GET / HTTP/1.0\n"})
    void anythingElseIsRefused(String line) {
        HandshakeLine r = HandshakeLine.connectRequest();
        assertThat(offer(r, line)).isEqualTo(HandshakeLine.Status.INVALID);
        assertThat(r.problem()).isNotEmpty();
    }

    @Test
    void aLineLongerThan32BytesIsRefusedBeforeItsNewline() {
        HandshakeLine r = HandshakeLine.connectRequest();
        assertThat(offer(r, "CONNECT " + "0".repeat(23))).isEqualTo(HandshakeLine.Status.INCOMPLETE); // 31 bytes
        assertThat(offer(r, "5\n")).isEqualTo(HandshakeLine.Status.INVALID); // 32 bytes, then no room for '\n'
        assertThat(r.problem()).contains("32 bytes");
        HandshakeLine exact = HandshakeLine.connectRequest();
        assertThat(offer(exact, "CONNECT " + "0".repeat(21) + "52\n")).isEqualTo(HandshakeLine.Status.COMPLETE); // 32 bytes with '\n'
    }

    @Test
    void bytesAfterTheNewlineAreKeptForTheGuest() {
        HandshakeLine r = HandshakeLine.connectRequest();
        assertThat(offer(r, "CONNECT 52\nhello")).isEqualTo(HandshakeLine.Status.COMPLETE);
        assertThat(new String(r.leftover(), StandardCharsets.US_ASCII)).isEqualTo("hello");
        assertThat(offer(r, "more")).isEqualTo(HandshakeLine.Status.COMPLETE); // final: ignored
    }

    @Test
    void socketFileNamesSpellPortsInPlainDecimal() {
        assertThat(PortFiles.portOf("52")).isEqualTo(52);
        assertThat(PortFiles.portOf("4294967294")).isEqualTo(-2);
        for (String s : new String[] {"052", "+52", "52a", "", "-1", "4294967296", "4294967295"}) {
            assertThat(PortFiles.portOf(s)).as(s).isEqualTo(-1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"OK 1073741824\n", "ok 5001\r\n", "OK 4294967295\n"})
    void anOkReplyTakesAnyUnsigned32BitNumberAsOpaque(String line) {
        HandshakeLine r = HandshakeLine.okReply();
        assertThat(offer(r, line)).isEqualTo(HandshakeLine.Status.COMPLETE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"OK\n", "OK x\n", "CONNECT 52\n", "OK 1 2\n"})
    void anOkReplyRefusesAnythingElse(String line) {
        HandshakeLine r = HandshakeLine.okReply();
        assertThat(offer(r, line)).isEqualTo(HandshakeLine.Status.INVALID);
    }
}
