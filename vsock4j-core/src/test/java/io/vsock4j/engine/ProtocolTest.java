package io.vsock4j.engine;

import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static io.vsock4j.wire.VirtioVsock.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The engine packet by packet: a machine (CID 3, G2H) whose only transport is a wire the test holds, so
 * the test plays the host and checks every packet the engine answers with.
 */
class ProtocolTest {
    private static final int GUEST = 3;
    private static final int HOST = 2;
    private TestWire wire;
    private Machine guest;

    @BeforeEach
    void start() {
        wire = new TestWire(GUEST);
        guest = Machine.builder().name("guest").transport(wire).closeTimeout(java.time.Duration.ofMillis(300)).build();
    }

    @AfterEach
    void stop() {
        guest.close();
    }

    private Packet fromHost(int op, int srcPort, int dstPort) {
        Packet p = Packet.control(TYPE_STREAM, op, 0, VsockAddress.of(HOST, srcPort), VsockAddress.of(GUEST, dstPort));
        p.bufAlloc = 256 * 1024;
        return p;
    }

    private Packet sent() throws InterruptedException {
        Packet p = wire.sent.poll(5, TimeUnit.SECONDS);
        assertThat(p).as("a packet from the engine").isNotNull();
        return p;
    }

    @Test
    void aRequestToNoSocketIsAnsweredWithRstAddressesSwapped() throws Exception {
        wire.deliver(fromHost(OP_REQUEST, 1500, 99));
        Packet rst = sent();
        assertThat(rst.op).isEqualTo(OP_RST);
        assertThat(rst.source()).isEqualTo(VsockAddress.of(GUEST, 99));
        assertThat(rst.destination()).isEqualTo(VsockAddress.of(HOST, 1500));
    }

    @Test
    void anRstIsNeverAnswered() throws Exception {
        wire.deliver(fromHost(OP_RST, 1500, 99));
        wire.deliver(fromHost(OP_REQUEST, 1501, 99));
        assertThat(sent().dstPort).as("the only answer is to the REQUEST").isEqualTo(1501);
    }

    @Test
    void handshakeDataShutdownAndCloseAsLinuxSendsThem() throws Exception {
        try (VsockServerSocket server = VsockServerSocket.bind(guest, VsockAddress.of(VsockAddress.CID_ANY, 700 + 5000))) {
            wire.deliver(fromHost(OP_REQUEST, 1600, 5700));
            Packet response = sent();
            assertThat(response.op).isEqualTo(OP_RESPONSE);
            assertThat(response.bufAlloc).isEqualTo(256 * 1024);
            VsockSocket s = server.accept();

            Packet rw = fromHost(OP_RW, 1600, 5700);
            rw.payload = "ping".getBytes();
            rw.len = 4;
            wire.deliver(rw);
            byte[] buf = new byte[4];
            assertThat(s.getInputStream().readNBytes(buf, 0, 4)).isEqualTo(4);
            // Linux announces credit whenever its reader empties the queue (rx_bytes < SO_RCVLOWAT).
            Packet update = sent();
            assertThat(update.op).isEqualTo(OP_CREDIT_UPDATE);
            assertThat(update.fwdCnt).as("the engine reports what its reader consumed").isEqualTo(4);

            s.getOutputStream().write("pong".getBytes());
            Packet out = sent();
            assertThat(out.op).isEqualTo(OP_RW);
            assertThat(out.len).isEqualTo(4);
            assertThat(out.fwdCnt).isEqualTo(4);

            wire.deliver(fromHost(OP_CREDIT_REQUEST, 1600, 5700));
            assertThat(sent().op).isEqualTo(OP_CREDIT_UPDATE);

            s.shutdownOutput();
            Packet shut = sent();
            assertThat(shut.op).isEqualTo(OP_SHUTDOWN);
            assertThat(shut.flags).isEqualTo(SHUTDOWN_SEND);

            s.close();
            Packet close = sent();
            assertThat(close.op).isEqualTo(OP_SHUTDOWN);
            assertThat(close.flags).isEqualTo(SHUTDOWN_BOTH);
            // The host finishes with RST; the guest forgets the connection.
            wire.deliver(fromHost(OP_RST, 1600, 5700));
            for (int i = 0; i < 200 && guest.connectionCount() > 0; i++) {
                Thread.sleep(5);
            }
            assertThat(guest.connectionCount()).isZero();
        }
    }

    @Test
    void aClosedSocketWhosePeerNeverFinishesSendsRstAfterTheCloseTimeout() throws Exception {
        try (VsockServerSocket server = VsockServerSocket.bind(guest, VsockAddress.of(VsockAddress.CID_ANY, 5704))) {
            wire.deliver(fromHost(OP_REQUEST, 1606, 5704));
            sent();
            VsockSocket s = server.accept();
            long start = System.nanoTime();
            s.close();
            assertThat(sent().op).isEqualTo(OP_SHUTDOWN);
            assertThat(guest.connectionCount()).as("still waiting for the peer").isEqualTo(1);
            Packet rst = sent();
            assertThat(rst.op).isEqualTo(OP_RST);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(300);
            for (int i = 0; i < 200 && guest.connectionCount() > 0; i++) {
                Thread.sleep(5);
            }
            assertThat(guest.connectionCount()).isZero();
        }
    }

    @Test
    void aPeerShuttingBothWaysWithNothingQueuedGetsRst() throws Exception {
        try (VsockServerSocket server = VsockServerSocket.bind(guest, VsockAddress.of(VsockAddress.CID_ANY, 5701))) {
            wire.deliver(fromHost(OP_REQUEST, 1601, 5701));
            sent();
            VsockSocket s = server.accept();
            Packet shutdown = fromHost(OP_SHUTDOWN, 1601, 5701);
            shutdown.flags = SHUTDOWN_BOTH;
            wire.deliver(shutdown);
            assertThat(sent().op).isEqualTo(OP_RST);
            assertThat(s.getInputStream().read()).isEqualTo(-1);
            s.close();
            assertThat(wire.sent.poll(100, TimeUnit.MILLISECONDS)).as("nothing after the RST").isNull();
        }
    }

    @Test
    void dataBeyondTheAdvertisedCreditResetsThatConnectionOnly() throws Exception {
        try (VsockServerSocket server = VsockServerSocket.bind(guest, VsockAddress.of(VsockAddress.CID_ANY, 5702))) {
            server.setOption(io.vsock4j.VsockOptions.BUFFER_SIZE, 1024L);
            wire.deliver(fromHost(OP_REQUEST, 1602, 5702));
            wire.deliver(fromHost(OP_REQUEST, 1603, 5702));
            sent();
            sent();
            VsockSocket bad = server.accept();
            VsockSocket good = server.accept();
            Packet flood = fromHost(OP_RW, 1602, 5702);
            flood.payload = new byte[1025];
            flood.len = 1025;
            wire.deliver(flood);
            Packet rst = sent();
            assertThat(rst.op).isEqualTo(OP_RST);
            assertThat(rst.dstPort).isEqualTo(1602);
            assertThat(bad.getInputStream().read()).isEqualTo(-1);
            assertThat(wire.sent.poll(100, TimeUnit.MILLISECONDS)).as("the reset connection stays quiet").isNull();
            Packet fine = fromHost(OP_RW, 1603, 5702);
            fine.payload = new byte[] {9};
            fine.len = 1;
            wire.deliver(fine);
            assertThat(good.getInputStream().read()).isEqualTo(9);
            bad.close();
            good.close();
        }
    }

    @Test
    void anUnknownOpOrTypeIsReset() throws Exception {
        Packet weird = fromHost(42, 1604, 5703);
        wire.deliver(weird);
        assertThat(sent().op).isEqualTo(OP_RST);
        Packet badType = fromHost(OP_REQUEST, 1605, 5703);
        badType.type = 9;
        wire.deliver(badType);
        Packet rst = sent();
        assertThat(rst.op).isEqualTo(OP_RST);
        assertThat(rst.type).isEqualTo(9);
    }

    @Test
    void aConnectAnsweredWithSomethingElseIsEPROTOAndReset() throws Exception {
        VsockSocket s = VsockSocket.open(guest);
        Thread answer = Thread.ofVirtual().start(() -> {
            try {
                Packet request = sent();
                assertThat(request.op).isEqualTo(OP_REQUEST);
                Packet wrong = fromHost(OP_RW, request.dstPort, request.srcPort);
                wire.deliver(wrong);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.connect(VsockAddress.of(HOST, 80)))
                .hasMessageStartingWith("EPROTO");
        answer.join();
        assertThat(sent().op).isEqualTo(OP_RST);
        s.close();
    }
}
