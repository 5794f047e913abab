package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Port redirects packet by packet: the guest dials 7000, a stand-in listens on 40000. */
class PortRedirectsTest {
    private static final int GUEST = 3;
    private final PortRedirects redirects = new PortRedirects();

    private static Packet packet(int op, int srcCid, int srcPort, int dstCid, int dstPort) {
        return Packet.control(VirtioVsock.TYPE_STREAM, op, 0, VsockAddress.of(srcCid, srcPort), VsockAddress.of(dstCid, dstPort));
    }

    private Packet fromGuest(int op, int guestPort, int hostPort) {
        Packet p = packet(op, GUEST, guestPort, VsockAddress.CID_HOST, hostPort);
        redirects.toHost(GUEST, p);
        return p;
    }

    private Packet toGuest(int op, int hostPort, int guestPort) {
        Packet p = packet(op, VsockAddress.CID_HOST, hostPort, GUEST, guestPort);
        redirects.toGuest(GUEST, p);
        return p;
    }

    @Test
    void aConnectionKeepsItsStandInAfterTheRedirectEndsAndIsForgottenAtItsReset() {
        redirects.redirect(GUEST, 7000, 40000);
        assertThat(fromGuest(VirtioVsock.OP_REQUEST, 1234, 7000).dstPort).isEqualTo(40000);
        assertThat(toGuest(VirtioVsock.OP_RESPONSE, 40000, 1234).srcPort).isEqualTo(7000);
        redirects.unredirect(GUEST, 7000);
        assertThat(fromGuest(VirtioVsock.OP_RW, 1234, 7000).dstPort).as("the open connection").isEqualTo(40000);
        assertThat(toGuest(VirtioVsock.OP_CREDIT_UPDATE, 40000, 1234).srcPort).isEqualTo(7000);
        assertThat(fromGuest(VirtioVsock.OP_REQUEST, 1235, 7000).dstPort).as("a new connection").isEqualTo(7000);
        assertThat(redirects.connectionCount()).isEqualTo(1);
        assertThat(toGuest(VirtioVsock.OP_RST, 40000, 1234).srcPort).isEqualTo(7000);
        assertThat(redirects.connectionCount()).isZero();
        assertThat(fromGuest(VirtioVsock.OP_RW, 1234, 7000).dstPort).as("after its reset").isEqualTo(7000);
    }

    @Test
    void aGuestsResetEndsItsConnectionAndOtherGuestsAreNotRedirected() {
        redirects.redirect(GUEST, 7000, 40000);
        fromGuest(VirtioVsock.OP_REQUEST, 1234, 7000);
        assertThat(fromGuest(VirtioVsock.OP_RST, 1234, 7000).dstPort).isEqualTo(40000);
        assertThat(redirects.connectionCount()).isZero();
        Packet other = packet(VirtioVsock.OP_REQUEST, 4, 1234, VsockAddress.CID_HOST, 7000);
        redirects.toHost(4, other);
        assertThat(other.dstPort).isEqualTo(7000);
        fromGuest(VirtioVsock.OP_REQUEST, 1236, 7000);
        redirects.forgetGuest(GUEST);
        assertThat(redirects.connectionCount()).isZero();
    }
}
