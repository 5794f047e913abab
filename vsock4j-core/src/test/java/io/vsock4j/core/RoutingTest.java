package io.vsock4j.core;

import io.vsock4j.VsockAddress;
import io.vsock4j.spi.TransportRole;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The routing rules, case by case, as net/vmw_vsock/af_vsock.c (5.5+) decides them:
 * vsock_use_local_transport, vsock_assign_transport, vsock_find_cid and the local-CID ioctl.
 * Slots are written as a string: H (H2G), G (G2H with CID 3 unless another CID follows) and L (LOCAL).
 */
class RoutingTest {

    private static Routing.Slots slots(String spec) {
        int g2hCid = 3;
        int at = spec.indexOf('G');
        if (at >= 0 && at + 1 < spec.length() && Character.isDigit(spec.charAt(at + 1))) {
            int end = at + 1;
            while (end < spec.length() && Character.isDigit(spec.charAt(end))) {
                end++;
            }
            g2hCid = Integer.parseInt(spec.substring(at + 1, end));
        }
        return new Routing.Slots(spec.contains("H"), at >= 0, at >= 0 ? g2hCid : VsockAddress.CID_ANY, spec.contains("L"));
    }

    @ParameterizedTest(name = "slots {0}: connect to CID {1} flags {2} -> {3}")
    @CsvSource({
            // slots, cid, flags, role the kernel picks (the slot may be empty: ENODEV at the machine)
            // Loopback: CID 1 always, and the machine's own CID (the G2H CID, or 2 without G2H).
            "L,      1, 0, LOCAL",
            "L,      2, 0, LOCAL",
            "L,      3, 0, G2H",
            "GL,     1, 0, LOCAL",
            "GL,     3, 0, LOCAL",
            "GL,     2, 0, G2H",
            "HL,     2, 0, LOCAL",
            "HGL,    2, 0, G2H",
            "HGL,    3, 0, LOCAL",
            "HG5L,   5, 0, LOCAL",
            "HG5L,   3, 0, H2G",
            // Without LOCAL, CID 1 and the own CID go out through G2H (to the hypervisor).
            "G,      1, 0, G2H",
            "G,      3, 0, G2H",
            "HG,     3, 0, H2G",
            "H,      1, 0, G2H",
            "H,      2, 0, G2H",
            // CIDs up to 2 always go to the host; CID 0 is the hypervisor.
            "HGL,    0, 0, G2H",
            "H,      0, 0, G2H",
            // Above 2: H2G when loaded, else G2H; TO_HOST forces G2H.
            "G,      4, 0, G2H",
            "G,      4, 1, G2H",
            "HG,     4, 0, H2G",
            "HG,     4, 1, G2H",
            "H,      4, 0, H2G",
            "H,      4, 1, G2H",
            "HL,     4, 1, G2H",
            // CIDs are unsigned: 0x80000000 and ANY are above 2.
            "HG,     -2147483648, 0, H2G",
            "HG,     -1, 0, H2G",
            "G,      -1, 0, G2H",
    })
    void connectRole(String spec, int cid, int flags, TransportRole expected) {
        assertThat(Routing.connectRole(slots(spec), cid, flags)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "slots {0}: bind CID {1} -> {2}")
    @CsvSource({
            // ANY always; then vsock_find_cid: the G2H CID, 2 with H2G, 1 with LOCAL.
            "'',   -1, true",
            "'',    1, false",
            "L,     1, true",
            "L,     2, false",
            "H,     2, true",
            "H,     1, false",
            "G,     3, true",
            "G,     2, false",
            "G,     1, false",
            "G,     4, false",
            "HGL,   1, true",
            "HGL,   2, true",
            "HGL,   3, true",
            "HGL,   4, false",
            "HGL,   0, false",
            "G7,    7, true",
            "G7,    3, false",
    })
    void canBind(String spec, int cid, boolean allowed) {
        assertThat(Routing.canBind(slots(spec), cid)).isEqualTo(allowed);
    }

    @ParameterizedTest(name = "slots {0}: local CID {1}")
    @CsvSource({
            "'',   -1",
            "L,     1",
            "H,     2",
            "HL,    2",
            "G,     3",
            "HG9L,  9",
    })
    void localCid(String spec, int expected) {
        assertThat(Routing.localCid(slots(spec))).isEqualTo(expected);
    }

    @ParameterizedTest(name = "listen: local {0}, remote {1} -> flags {2}")
    @CsvSource({
            // TO_HOST only when both ends are guests (sibling traffic through the host).
            "3, 4, 1",
            "4, 3, 1",
            "2, 3, 0",
            "3, 2, 0",
            "1, 1, 0",
            "3, 3, 1",
            "-1, 3, 1",
    })
    void listenFlags(int localCid, int remoteCid, int flags) {
        assertThat(Routing.listenFlags(localCid, remoteCid)).isEqualTo(flags);
    }
}
