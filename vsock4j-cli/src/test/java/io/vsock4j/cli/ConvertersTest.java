package io.vsock4j.cli;

import org.junit.jupiter.api.Test;
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
    }

    @Test
    void portsStopBelowPortAny() {
        Converters.Port port = new Converters.Port();
        assertThat(port.convert("4294967294")).isEqualTo(0xFFFF_FFFE);
        assertThatThrownBy(() -> port.convert("4294967295")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> port.convert("-5")).hasMessageContaining("out of range");
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
