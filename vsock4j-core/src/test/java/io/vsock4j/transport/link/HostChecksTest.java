package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.spi.TransportRole;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the host side of a link checks, sibling traffic, and the errno of each routing failure. */
class HostChecksTest {
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T track(T c) {
        toClose.add(c);
        return c;
    }

    private Machine host(HostTransport h2g) {
        return track(Machine.builder().name("host").transport(h2g).build());
    }

    private Machine guest(String name, GuestTransport g2h) {
        return track(Machine.builder().name(name).transport(g2h).build());
    }

    /** A hand-driven guest: the test writes its packets and reads what the host sends it. */
    private record RawGuest(MemoryLink link, BlockingQueue<Packet> received) {
        Packet next() throws InterruptedException {
            return received.poll(2, TimeUnit.SECONDS);
        }

        Packet none() throws InterruptedException {
            return received.poll(200, TimeUnit.MILLISECONDS);
        }
    }

    private RawGuest rawGuest(HostTransport h2g, int cid) throws IOException {
        MemoryLink[] ends = MemoryLink.pair("raw" + cid);
        h2g.attach(cid, ends[0], true);
        BlockingQueue<Packet> q = new LinkedBlockingQueue<>();
        ends[1].start(new PacketLink.Receiver() {
            @Override
            public void packet(Packet p) {
                q.add(p);
            }

            @Override
            public void down(String reason) {
            }
        });
        track(ends[1]);
        return new RawGuest(ends[1], q);
    }

    private static Packet request(long src, long dst, int type, int op) {
        Packet p = new Packet();
        p.srcCid = src;
        p.dstCid = dst;
        p.srcPort = 1234;
        p.dstPort = 9999;
        p.type = type;
        p.op = op;
        p.bufAlloc = 65536;
        return p;
    }

    @Test
    void aGuestsPacketsAreAcceptedOnlyFromItsCidToTheHost() throws Exception {
        HostTransport h2g = new HostTransport("h", false);
        host(h2g);
        RawGuest g = rawGuest(h2g, 5);

        // Correctly addressed, nobody listening: the host answers RST.
        g.link().send(request(5, 2, VirtioVsock.TYPE_STREAM, VirtioVsock.OP_REQUEST));
        Packet rst = g.next();
        assertThat(rst.op).isEqualTo(VirtioVsock.OP_RST);
        assertThat(rst.dstCid).isEqualTo(5);
        assertThat(rst.srcCid).isEqualTo(2);

        // A source that is not the guest's, or a destination that is not the host: dropped, unanswered.
        g.link().send(request(6, 2, VirtioVsock.TYPE_STREAM, VirtioVsock.OP_REQUEST));
        g.link().send(request(5, 1, VirtioVsock.TYPE_STREAM, VirtioVsock.OP_REQUEST));
        g.link().send(request(5L | (1L << 32), 2, VirtioVsock.TYPE_STREAM, VirtioVsock.OP_REQUEST));
        assertThat(g.none()).isNull();
        assertThat(h2g.droppedPackets()).isEqualTo(3);

        // Unknown type or op, correctly addressed: the engine resets.
        g.link().send(request(5, 2, 77, VirtioVsock.OP_REQUEST));
        assertThat(g.next().op).isEqualTo(VirtioVsock.OP_RST);
        g.link().send(request(5, 2, VirtioVsock.TYPE_STREAM, 42));
        assertThat(g.next().op).isEqualTo(VirtioVsock.OP_RST);
    }

    @Test
    void oneHostRoutesToEachOfItsGuestsByCid() throws Exception {
        HostTransport h2g = new HostTransport("h", false);
        Machine host = host(h2g);
        Machine a = guest("a", h2g.attachInMemory(3));
        Machine b = guest("b", h2g.attachInMemory(4));
        VsockServerSocket sa = track(VsockServerSocket.bind(a, VsockAddress.of(VsockAddress.CID_ANY, 80)));
        VsockServerSocket sb = track(VsockServerSocket.bind(b, VsockAddress.of(VsockAddress.CID_ANY, 80)));
        VsockSocket toA = track(VsockSocket.connect(host, VsockAddress.of(3, 80)));
        VsockSocket toB = track(VsockSocket.connect(host, VsockAddress.of(4, 80)));
        VsockSocket inA = track(sa.accept());
        VsockSocket inB = track(sb.accept());
        toA.getOutputStream().write('a');
        toB.getOutputStream().write('b');
        assertThat(inA.getInputStream().read()).isEqualTo('a');
        assertThat(inB.getInputStream().read()).isEqualTo('b');
        assertThat(inA.getRemoteAddress().cid()).isEqualTo(VsockAddress.CID_HOST);
        assertThat(h2g.guestCids()).containsExactly(3, 4);
    }

    @Test
    void siblingsTalkThroughTheHostWhenItForwards() throws Exception {
        HostTransport h2g = new HostTransport("h", true);
        host(h2g);
        // Guests with only G2H: everything above CID 2 goes to the host.
        Machine a = guest("a", h2g.attachInMemory(3));
        Machine b = guest("b", h2g.attachInMemory(4));
        VsockServerSocket sb = track(VsockServerSocket.bind(b, VsockAddress.of(VsockAddress.CID_ANY, 80)));
        VsockSocket fromA = track(VsockSocket.connect(a, VsockAddress.of(4, 80, VsockAddress.FLAG_TO_HOST)));
        VsockSocket inB = track(sb.accept());
        // The listen path marks sibling traffic TO_HOST, so replies go back through the host.
        assertThat(inB.getRemoteAddress().cid()).isEqualTo(3);
        assertThat(inB.getRemoteAddress().flags() & VsockAddress.FLAG_TO_HOST).isEqualTo(VsockAddress.FLAG_TO_HOST);
        fromA.getOutputStream().write(1);
        assertThat(inB.getInputStream().read()).isEqualTo(1);
        inB.getOutputStream().write(2);
        assertThat(fromA.getInputStream().read()).isEqualTo(2);
    }

    @Test
    void siblingsReachOnlyGuestsThatShareAGroup() throws Exception {
        HostTransport h2g = new HostTransport("h", true);
        host(h2g);
        Machine a = guest("a", h2g.attachInMemory(3, Set.of("red")));
        Machine b = guest("b", h2g.attachInMemory(4, Set.of("red", "blue")));
        Machine c = guest("c", h2g.attachInMemory(5, Set.of("blue")));
        track(VsockServerSocket.bind(a, VsockAddress.of(VsockAddress.CID_ANY, 80)));
        VsockServerSocket sb = track(VsockServerSocket.bind(b, VsockAddress.of(VsockAddress.CID_ANY, 80)));
        VsockSocket fromC = track(VsockSocket.connect(c, VsockAddress.of(4, 80, VsockAddress.FLAG_TO_HOST)));
        assertThat(track(sb.accept()).getRemoteAddress().cid()).isEqualTo(5);
        long dropped = h2g.droppedPackets();
        VsockSocket s = track(VsockSocket.open(c));
        s.setOption(VsockOptions.CONNECT_TIMEOUT, Duration.ofMillis(300));
        // c and a share no group: the host drops c's request, as vhost-device-vsock does on a group mismatch.
        assertThatThrownBy(() -> s.connect(VsockAddress.of(3, 80, VsockAddress.FLAG_TO_HOST)))
                .isInstanceOf(SocketTimeoutException.class).hasMessageStartingWith("ETIMEDOUT");
        assertThat(h2g.droppedPackets()).isGreaterThan(dropped);
        assertThat(fromC.getRemoteAddress().cid()).isEqualTo(4);
    }

    @Test
    void aGuestWithoutGroupsIsRefused() {
        HostTransport h2g = new HostTransport("h", true);
        host(h2g);
        assertThatThrownBy(() -> h2g.attachInMemory(3, Set.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void withoutForwardingAHostDropsSiblingTrafficAsVhostDoes() throws Exception {
        HostTransport h2g = new HostTransport("h", false);
        host(h2g);
        Machine a = guest("a", h2g.attachInMemory(3));
        Machine b = guest("b", h2g.attachInMemory(4));
        track(VsockServerSocket.bind(b, VsockAddress.of(VsockAddress.CID_ANY, 80)));
        VsockSocket s = track(VsockSocket.open(a));
        s.setOption(VsockOptions.CONNECT_TIMEOUT, Duration.ofMillis(300));
        assertThatThrownBy(() -> s.connect(VsockAddress.of(4, 80))).isInstanceOf(SocketTimeoutException.class)
                .hasMessageStartingWith("ETIMEDOUT");
    }

    @Test
    void toHostSendsSiblingTrafficUpEvenFromAMachineThatIsAlsoAHost() throws Exception {
        HostTransport l0h2g = new HostTransport("l0", true);
        host(l0h2g);
        HostTransport l1h2g = new HostTransport("l1", false);
        Machine l1 = track(Machine.builder().name("l1").transport(l0h2g.attachInMemory(3)).transport(l1h2g).build());
        Machine sibling = guest("sibling", l0h2g.attachInMemory(5));
        VsockServerSocket server = track(VsockServerSocket.bind(sibling, VsockAddress.of(VsockAddress.CID_ANY, 80)));

        // Without TO_HOST, CID 5 is one of L1's own guests: there is none.
        assertThatThrownBy(() -> VsockSocket.connect(l1, VsockAddress.of(5, 80)))
                .isInstanceOf(NoRouteToHostException.class).hasMessageStartingWith("ENODEV");
        VsockSocket up = track(VsockSocket.connect(l1, VsockAddress.of(5, 80, VsockAddress.FLAG_TO_HOST)));
        VsockSocket in = track(server.accept());
        up.getOutputStream().write(9);
        assertThat(in.getInputStream().read()).isEqualTo(9);
        assertThat(l1.connectionCount(l1.transport(TransportRole.G2H))).isEqualTo(1);
    }

    @Test
    void anEmptySlotIsEnodev() throws Exception {
        HostTransport h2g = new HostTransport("h", false);
        Machine hostOnly = host(h2g);
        // No LOCAL: CID 1 goes to the G2H slot, which is empty.
        assertThatThrownBy(() -> VsockSocket.connect(hostOnly, VsockAddress.local(80)))
                .isInstanceOf(NoRouteToHostException.class).hasMessageStartingWith("ENODEV");
    }

    @Test
    void seqpacketNeedsTheFeatureOnTheLink() throws Exception {
        HostTransport h2g = new HostTransport("h", false);
        Machine host = host(h2g);
        MemoryLink[] ends = MemoryLink.pair("no-seqpacket");
        h2g.attach(3, ends[0], false);
        Machine g = guest("g", new GuestTransport(ends[1], 3, false));
        assertThatThrownBy(() -> VsockSeqpacketSocket.connect(host, VsockAddress.of(3, 80)))
                .hasMessageStartingWith("ESOCKTNOSUPPORT");
        assertThatThrownBy(() -> VsockSeqpacketSocket.connect(g, VsockAddress.of(VsockAddress.CID_HOST, 80)))
                .hasMessageStartingWith("ESOCKTNOSUPPORT");
        // Streams are fine on the same link.
        track(VsockServerSocket.bind(g, VsockAddress.of(VsockAddress.CID_ANY, 80)));
        track(VsockSocket.connect(host, VsockAddress.of(3, 80)));
    }

    @Test
    void aGuestDropsPacketsNotAddressedToIt() throws Exception {
        MemoryLink[] ends = MemoryLink.pair("raw-host");
        GuestTransport g2h = new GuestTransport(ends[0], 7, true);
        guest("g", g2h);
        BlockingQueue<Packet> fromGuest = new LinkedBlockingQueue<>();
        ends[1].start(new PacketLink.Receiver() {
            @Override
            public void packet(Packet p) {
                fromGuest.add(p);
            }

            @Override
            public void down(String reason) {
            }
        });
        track(ends[1]);
        ends[1].send(request(2, 8, VirtioVsock.TYPE_STREAM, VirtioVsock.OP_REQUEST));
        ends[1].send(request(7, 7, VirtioVsock.TYPE_STREAM, VirtioVsock.OP_REQUEST));
        assertThat(fromGuest.poll(200, TimeUnit.MILLISECONDS)).isNull();
        assertThat(g2h.droppedPackets()).isEqualTo(2);
        ends[1].send(request(2, 7, VirtioVsock.TYPE_STREAM, VirtioVsock.OP_REQUEST));
        assertThat(fromGuest.poll(2, TimeUnit.SECONDS).op).isEqualTo(VirtioVsock.OP_RST);
    }
}
