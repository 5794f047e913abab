package io.vsock4j;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The text forms of CIDs and ports: decimal unsigned 32-bit numbers or the well-known names, nothing else. */
final class VsockAddressTest {

    @Test
    void cidsAreDecimalUnsigned32BitNumbers() {
        assertThat(VsockAddress.parseCid("0")).isZero();
        assertThat(VsockAddress.parseCid("3")).isEqualTo(3);
        assertThat(VsockAddress.parseCid("007")).isEqualTo(7);
        assertThat(VsockAddress.parseCid(" 1")).as("blanks around are ignored").isEqualTo(1);
        assertThat(VsockAddress.parseCid("4294967294")).isEqualTo(0xFFFF_FFFE);
        assertThat(VsockAddress.parseCid("4294967295")).isEqualTo(VsockAddress.CID_ANY);
    }

    @Test
    void cidNamesAreCaseInsensitive() {
        assertThat(VsockAddress.parseCid("any")).isEqualTo(VsockAddress.CID_ANY);
        assertThat(VsockAddress.parseCid("Hypervisor")).isEqualTo(VsockAddress.CID_HYPERVISOR);
        assertThat(VsockAddress.parseCid("LOCAL")).isEqualTo(VsockAddress.CID_LOCAL);
        assertThat(VsockAddress.parseCid("loopback")).isEqualTo(VsockAddress.CID_LOCAL);
        assertThat(VsockAddress.parseCid(" host ")).isEqualTo(VsockAddress.CID_HOST);
    }

    @Test
    void negativeCidsPointToTheNames() {
        assertThatThrownBy(() -> VsockAddress.parseCid("-1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("CID '-1' is negative; CIDs are unsigned 32-bit (0..4294967295): "
                        + "write 'any' for VMADDR_CID_ANY or 'local' for this machine");
        assertThatThrownBy(() -> VsockAddress.parseCid("-2")).hasMessageContaining("'-2' is negative")
                .hasMessageContaining("'any'");
    }

    @Test
    void cidsOutsideU32OrNotDecimalAreRefused() {
        assertThatThrownBy(() -> VsockAddress.parseCid("4294967296")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("CID out of range 0..4294967295: '4294967296'");
        assertThatThrownBy(() -> VsockAddress.parseCid("99999999999999999999999"))
                .hasMessageContaining("out of range");
        assertThatThrownBy(() -> VsockAddress.parseCid("")).hasMessage("CID is not a number: ''");
        assertThatThrownBy(() -> VsockAddress.parseCid(" ")).hasMessage("CID is not a number: ' '");
        assertThatThrownBy(() -> VsockAddress.parseCid("0x10")).as("hex was never accepted")
                .hasMessage("CID is not a number: '0x10'");
        assertThatThrownBy(() -> VsockAddress.parseCid("+1")).hasMessage("CID is not a number: '+1'");
        assertThatThrownBy(() -> VsockAddress.parseCid("-")).hasMessage("CID is not a number: '-'");
        assertThatThrownBy(() -> VsockAddress.parseCid("1 2")).hasMessage("CID is not a number: '1 2'");
    }

    @Test
    void portsAreDecimalUnsigned32BitNumbersOrAny() {
        assertThat(VsockAddress.parsePort("0")).isZero();
        assertThat(VsockAddress.parsePort(" 1")).isEqualTo(1);
        assertThat(VsockAddress.parsePort("4294967295")).isEqualTo(VsockAddress.PORT_ANY);
        assertThat(VsockAddress.parsePort("ANY")).isEqualTo(VsockAddress.PORT_ANY);
    }

    @Test
    void badPortsAreRefusedNamingTheInput() {
        assertThatThrownBy(() -> VsockAddress.parsePort("-1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("port '-1' is negative; ports are unsigned 32-bit (0..4294967295): "
                        + "write 'any' for VMADDR_PORT_ANY");
        assertThatThrownBy(() -> VsockAddress.parsePort("4294967296"))
                .hasMessage("port out of range 0..4294967295: '4294967296'");
        assertThatThrownBy(() -> VsockAddress.parsePort("")).hasMessage("port is not a number: ''");
        assertThatThrownBy(() -> VsockAddress.parsePort("0x10")).hasMessage("port is not a number: '0x10'");
        assertThatThrownBy(() -> VsockAddress.parsePort("local")).hasMessage("port is not a number: 'local'");
    }

    @Test
    void addressesParseBothPartsAndPrintBack() {
        assertThat(VsockAddress.parse("local:1234")).isEqualTo(VsockAddress.local(1234));
        assertThat(VsockAddress.parse("4294967294:4294967294").toString()).isEqualTo("4294967294:4294967294");
        assertThat(VsockAddress.parse("any:any")).isEqualTo(VsockAddress.any());
        assertThat(VsockAddress.parse(VsockAddress.any().toString())).isEqualTo(VsockAddress.any());
        assertThatThrownBy(() -> VsockAddress.parse("-1:5")).hasMessageContaining("CID '-1' is negative");
        assertThatThrownBy(() -> VsockAddress.parse("3:-1")).hasMessageContaining("port '-1' is negative");
        assertThatThrownBy(() -> VsockAddress.parse("3")).hasMessageContaining("want CID:PORT");
    }
}
