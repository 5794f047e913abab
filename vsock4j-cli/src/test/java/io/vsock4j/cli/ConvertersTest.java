package io.vsock4j.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.TypeConversionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConvertersTest {
    @Test
    void cidsAreUnsignedNumbersOrWellKnownNames() {
        Converters.Cid cid = new Converters.Cid();
        assertThat(cid.convert("host")).isEqualTo(2);
        assertThat(cid.convert("4294967294")).isEqualTo(0xFFFF_FFFE);
        assertThatThrownBy(() -> cid.convert("abc")).isInstanceOf(TypeConversionException.class)
                .hasMessage("CID is not a number: 'abc'");
        assertThatThrownBy(() -> cid.convert("4294967296")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> cid.convert("-1")).isInstanceOf(TypeConversionException.class)
                .hasMessageContaining("CID '-1' is negative").hasMessageContaining("write 'any'");
    }

    @Test
    void portsStopBelowPortAny() {
        Converters.Port port = new Converters.Port();
        assertThat(port.convert("4294967294")).isEqualTo(0xFFFF_FFFE);
        assertThatThrownBy(() -> port.convert("4294967295")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> port.convert("-5")).isInstanceOf(TypeConversionException.class)
                .hasMessageContaining("port '-5' is negative");
        assertThatThrownBy(() -> port.convert("-1")).hasMessageContaining("write 'any'");
    }

    @Test
    void aNegativeCidOnTheCommandLineIsAUsageError() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Stdio stdio = new Stdio(InputStream.nullInputStream(), out,
                new PrintStream(err, true, StandardCharsets.UTF_8));
        int code = VsockCommand.execute(stdio, TransportChoice.Source.standard(), "test", "--peer-cid", "-1");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("CID '-1' is negative")
                .contains("write 'any' for VMADDR_CID_ANY or 'local' for this machine")
                .contains("see 'vsock test --help'");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void byteCountsTakeBinarySuffixes() {
        Converters.Bytes bytes = new Converters.Bytes();
        assertThat(bytes.convert("4096")).isEqualTo(4096L);
        assertThat(bytes.convert("64k")).isEqualTo(64L << 10);
        assertThat(bytes.convert("2G")).isEqualTo(2L << 30);
        assertThatThrownBy(() -> bytes.convert("0")).hasMessageContaining("positive");
        assertThatThrownBy(() -> bytes.convert("1T")).hasMessageContaining("not a byte count");
        assertThatThrownBy(() -> bytes.convert("99999999999G")).hasMessageContaining("not a byte count");
    }
}
