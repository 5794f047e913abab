package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Topology;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.BindException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * L0 <-> L1 <-> L2 in one JVM ({@link Topology#nested()}): each connection goes where Linux 5.5+ sends
 * it, over the transport the routing rules pick, and reaches the machine that owns the CID.
 */
class NestedTopologyTest {
    private static final AtomicInteger NEXT_PORT = new AtomicInteger(7000);

    private Topology net;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    /** The transport each machine sent a REQUEST on, by destination port. */
    private final ConcurrentHashMap<String, Transport> requests = new ConcurrentHashMap<>();

    @BeforeEach
    void build() throws IOException {
        net = Topology.nested();
        for (Machine m : machines()) {
            m.addTap((outbound, transport, p) -> {
                if (outbound && p.op == VirtioVsock.OP_REQUEST) {
                    requests.put(m.name() + ":" + Integer.toUnsignedString(p.dstPort), transport);
                }
            });
        }
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
        net.close();
    }

    private Machine[] machines() {
        return new Machine[] {net.l0(), net.l1(), net.l2()};
    }

    private <T extends AutoCloseable> T track(T c) {
        toClose.add(c);
        return c;
    }

    /**
     * Listens on one port on every machine, connects from {@code from} to {@code cid}, and checks that
     * {@code expected} accepted it, over {@code role} of {@code from}, and that bytes flow both ways.
     */
    private void assertRoute(Machine from, int cid, Machine expected, TransportRole role) throws Exception {
        int port = NEXT_PORT.getAndIncrement();
        List<VsockServerSocket> servers = new ArrayList<>();
        for (Machine m : machines()) {
            VsockServerSocket s = track(VsockServerSocket.bind(m, VsockAddress.of(VsockAddress.CID_ANY, port)));
            s.setSoTimeout(100);
            servers.add(s);
        }
        VsockSocket client = track(VsockSocket.connect(from, VsockAddress.of(cid, port)));
        assertThat(requests.get(from.name() + ":" + port)).as("transport used by " + from.name())
                .isSameAs(from.transport(role));
        Machine[] ms = machines();
        for (int i = 0; i < ms.length; i++) {
            if (ms[i] == expected) {
                VsockSocket accepted = track(servers.get(i).accept());
                client.getOutputStream().write(42);
                assertThat(accepted.getInputStream().read()).isEqualTo(42);
                accepted.getOutputStream().write(43);
                assertThat(client.getInputStream().read()).isEqualTo(43);
            } else {
                VsockServerSocket other = servers.get(i);
                assertThatThrownBy(other::accept).as(ms[i].name() + " must not get it")
                        .hasMessageStartingWith("EAGAIN");
            }
        }
    }

    @Test
    void fromL1LocalCidsStayInL1() throws Exception {
        assertRoute(net.l1(), VsockAddress.CID_LOCAL, net.l1(), TransportRole.LOCAL);
        assertRoute(net.l1(), Topology.L1_CID, net.l1(), TransportRole.LOCAL);
    }

    @Test
    void fromL1TheHostIsL0OverG2h() throws Exception {
        assertRoute(net.l1(), VsockAddress.CID_HOST, net.l0(), TransportRole.G2H);
    }

    @Test
    void fromL1TheGuestCidIsL2OverH2g() throws Exception {
        assertRoute(net.l1(), Topology.L2_CID, net.l2(), TransportRole.H2G);
    }

    @Test
    void fromL2TheHostIsL1AndCid1StaysInL2() throws Exception {
        assertRoute(net.l2(), VsockAddress.CID_HOST, net.l1(), TransportRole.G2H);
        assertRoute(net.l2(), VsockAddress.CID_LOCAL, net.l2(), TransportRole.LOCAL);
        assertRoute(net.l2(), Topology.L2_CID, net.l2(), TransportRole.LOCAL);
    }

    @Test
    void fromL0TheGuestCidIsL1() throws Exception {
        assertRoute(net.l0(), Topology.L1_CID, net.l1(), TransportRole.H2G);
    }

    @Test
    void aCidNoGuestOwnsFailsWithEnodevAsVhostDoes() throws Exception {
        // vhost_transport_send_pkt finds no guest and returns -ENODEV, which connect() returns.
        VsockSocket s = track(VsockSocket.open(net.l1()));
        assertThatThrownBy(() -> s.connect(VsockAddress.of(9, 5000)))
                .isInstanceOf(NoRouteToHostException.class).hasMessageStartingWith("ENODEV");
        // L2 lives in L1's CID space, not in L0's.
        VsockSocket fromL0 = track(VsockSocket.open(net.l0()));
        assertThatThrownBy(() -> fromL0.connect(VsockAddress.of(Topology.L2_CID, 5000)))
                .hasMessageStartingWith("ENODEV");
        // SEQPACKET to an unknown guest: vhost_transport_seqpacket_allow answers false first.
        VsockSeqpacketSocket seq = track(VsockSeqpacketSocket.open(net.l1()));
        assertThatThrownBy(() -> seq.connect(VsockAddress.of(9, 5000)))
                .isInstanceOf(SocketException.class).hasMessageStartingWith("ESOCKTNOSUPPORT");
    }

    @Test
    void localCidsAreWhatTheIoctlAnswers() {
        assertThat(net.l0().localCid()).isEqualTo(VsockAddress.CID_HOST);
        assertThat(net.l1().localCid()).isEqualTo(Topology.L1_CID);
        assertThat(net.l2().localCid()).isEqualTo(Topology.L2_CID);
    }

    @Test
    void bindAcceptsOnlyTheMachinesOwnCids() throws Exception {
        for (int cid : new int[] {VsockAddress.CID_LOCAL, VsockAddress.CID_HOST, Topology.L1_CID}) {
            track(VsockServerSocket.bind(net.l1(), VsockAddress.of(cid, NEXT_PORT.getAndIncrement())));
        }
        assertThatThrownBy(() -> track(VsockServerSocket.bind(net.l1(), VsockAddress.of(Topology.L2_CID, 5000))))
                .isInstanceOf(BindException.class).hasMessageStartingWith("EADDRNOTAVAIL");
        // L2 has no H2G: CID 2 is not its own.
        assertThatThrownBy(() -> track(VsockServerSocket.bind(net.l2(), VsockAddress.of(VsockAddress.CID_HOST, 5000))))
                .isInstanceOf(BindException.class).hasMessageStartingWith("EADDRNOTAVAIL");
    }

    @Test
    void aNestedGuestMayNotTakeItsHostsCid() {
        HostTransport l1Host = (HostTransport) net.l1().transport(TransportRole.H2G);
        assertThatThrownBy(() -> l1Host.attachInMemory(Topology.L1_CID))
                .isInstanceOf(BindException.class).hasMessageStartingWith("EADDRINUSE");
        assertThatThrownBy(() -> l1Host.attachInMemory(Topology.L2_CID)).hasMessageStartingWith("EADDRINUSE");
        assertThatThrownBy(() -> l1Host.attachInMemory(VsockAddress.CID_HOST)).hasMessageStartingWith("EINVAL");
        assertThatThrownBy(() -> l1Host.attachInMemory(VsockAddress.CID_ANY)).hasMessageStartingWith("EINVAL");
    }

    @Test
    void stoppingL2ResetsItsConnectionsOnBothSides() throws Exception {
        int port = NEXT_PORT.getAndIncrement();
        VsockServerSocket server = track(VsockServerSocket.bind(net.l1(), VsockAddress.of(VsockAddress.CID_ANY, port)));
        VsockSocket fromL2 = track(VsockSocket.connect(net.l2(), VsockAddress.of(VsockAddress.CID_HOST, port)));
        VsockSocket inL1 = track(server.accept());
        // An unrelated connection over L1's G2H must survive.
        int port0 = NEXT_PORT.getAndIncrement();
        VsockServerSocket server0 = track(VsockServerSocket.bind(net.l0(), VsockAddress.of(VsockAddress.CID_ANY, port0)));
        VsockSocket toL0 = track(VsockSocket.connect(net.l1(), VsockAddress.of(VsockAddress.CID_HOST, port0)));
        VsockSocket inL0 = track(server0.accept());

        ((HostTransport) net.l1().transport(TransportRole.H2G)).detach(Topology.L2_CID);

        assertThatThrownBy(() -> inL1.getInputStream().read()).hasMessageStartingWith("ECONNRESET");
        assertThatThrownBy(() -> fromL2.getInputStream().read()).hasMessageStartingWith("ECONNRESET");
        toL0.getOutputStream().write(7);
        assertThat(inL0.getInputStream().read()).isEqualTo(7);
        assertThat(net.l1().connectionCount(net.l1().transport(TransportRole.H2G))).isZero();
        // The guest is gone: connect now fails as for any unknown CID.
        assertThatThrownBy(() -> VsockSocket.connect(net.l1(), VsockAddress.of(Topology.L2_CID, port)))
                .hasMessageStartingWith("ENODEV");
    }
}
