package io.vsock4j.engine;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.spi.Errno;
import io.vsock4j.wire.Packet;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static io.vsock4j.engine.ConnectionState.Phase.CLOSED;
import static io.vsock4j.engine.ConnectionState.Phase.CLOSING;
import static io.vsock4j.engine.ConnectionState.Phase.CONNECTING;
import static io.vsock4j.engine.ConnectionState.Phase.ESTABLISHED;
import static io.vsock4j.engine.ConnectionState.Phase.IDLE;
import static io.vsock4j.wire.VirtioVsock.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The connection state machine alone, driven packet by packet from the test's thread: no machine, no
 * transport, no threads, no clock. Each test plays the peer and checks exactly what the protocol sends
 * and whom it wakes.
 */
class ConnectionProtocolTest {
    private static final VsockAddress US = VsockAddress.of(3, 1024);
    private static final VsockAddress PEER = VsockAddress.of(2, 5000);
    private static final int BUFFER = 64 * 1024;

    /** Records what a protocol does: the packets it queues and the wake-ups and owner calls it makes. */
    static final class Recorder implements ConnectionProtocol.Output {
        final List<Packet> sent = new ArrayList<>();
        int readerWakeups;
        int writerWakeups;
        int established;
        int finished;

        @Override
        public void send(Packet packet) {
            sent.add(packet);
        }

        @Override
        public void wakeReaders() {
            readerWakeups++;
        }

        @Override
        public void wakeWriters() {
            writerWakeups++;
        }

        @Override
        public void established() {
            established++;
        }

        @Override
        public void finished() {
            finished++;
        }

        /** The one packet sent since the last call; fails if there is not exactly one. */
        Packet only() {
            assertThat(sent).as("packets sent").hasSize(1);
            return sent.removeFirst();
        }

        void nothingSent() {
            assertThat(sent).as("packets sent").isEmpty();
        }
    }

    private final Recorder out = new Recorder();

    private ConnectionProtocol protocol(SocketType type) {
        return new ConnectionProtocol(out, type, US, PEER, BUFFER, 1);
    }

    /** A packet from the peer to us, advertising {@code peerBuffer} and {@code peerFwdCnt}. */
    private static Packet fromPeer(SocketType type, int op, int flags, int peerBuffer, int peerFwdCnt) {
        Packet p = Packet.control(type.virtioType(), op, flags, PEER, US);
        p.bufAlloc = peerBuffer;
        p.fwdCnt = peerFwdCnt;
        return p;
    }

    private static Packet fromPeer(int op) {
        return fromPeer(SocketType.STREAM, op, 0, BUFFER, 0);
    }

    private static Packet data(int len) {
        Packet p = fromPeer(OP_RW);
        p.payload = new byte[len];
        p.len = len;
        return p;
    }

    /** A client connection that got its RESPONSE; the recorder is cleared. */
    private ConnectionProtocol established(SocketType type) {
        ConnectionProtocol c = protocol(type);
        c.connect();
        c.onPacket(fromPeer(type, OP_RESPONSE, 0, BUFFER, 0));
        out.sent.clear();
        out.readerWakeups = 0;
        out.writerWakeups = 0;
        return c;
    }

    /** A stream whose peer shut both ways with nothing queued: we answered RST and the protocol is over. */
    private ConnectionProtocol overByThePeersShutdown() {
        ConnectionProtocol c = established(SocketType.STREAM);
        c.onPacket(fromPeer(SocketType.STREAM, OP_SHUTDOWN, SHUTDOWN_BOTH, BUFFER, 0));
        assertThat(out.only().op).isEqualTo(OP_RST);
        assertThat(c.state().phase()).isEqualTo(CLOSING);
        return c;
    }

    private void send(ConnectionProtocol c, int n) {
        c.sendData(new byte[n], n, 0);
    }

    @Nested
    class Handshake {
        @Test
        void connectSendsRequestAndResponseEstablishes() {
            ConnectionProtocol c = protocol(SocketType.STREAM);
            c.connect();
            Packet request = out.only();
            assertThat(request.op).isEqualTo(OP_REQUEST);
            assertThat(request.source()).isEqualTo(US);
            assertThat(request.destination()).isEqualTo(PEER);
            assertThat(request.bufAlloc).isEqualTo(BUFFER);
            assertThat(c.state().phase()).isEqualTo(CONNECTING);

            c.onPacket(fromPeer(OP_RESPONSE));
            out.nothingSent();
            assertThat(c.state().phase()).isEqualTo(ESTABLISHED);
            assertThat(out.established).isEqualTo(1);
            assertThat(out.readerWakeups).as("the connecting thread waits as a reader").isEqualTo(1);
            assertThat(c.canSend()).isTrue();
        }

        @Test
        void acceptAnswersResponseAndTakesThePeersCredit() {
            ConnectionProtocol c = protocol(SocketType.STREAM);
            c.acceptRequest(fromPeer(SocketType.STREAM, OP_REQUEST, 0, 4096, 0));
            Packet response = out.only();
            assertThat(response.op).isEqualTo(OP_RESPONSE);
            assertThat(response.destination()).isEqualTo(PEER);
            assertThat(c.state().phase()).isEqualTo(ESTABLISHED);
            assertThat(c.txSpace()).as("the peer's 4 KiB buffer bounds what we may send").isEqualTo(4096);
        }

        @Test
        void rstWhileConnectingIsConnectionRefused() {
            ConnectionProtocol c = protocol(SocketType.STREAM);
            c.connect();
            out.sent.clear();
            c.onPacket(fromPeer(OP_RST));
            out.nothingSent();
            assertThat(c.state().phase()).isEqualTo(CLOSED);
            assertThat(c.takeError(Errno.EPROTO)).isEqualTo(Errno.ECONNRESET);
            assertThat(out.established).isZero();
        }

        @Test
        void anythingButResponseWhileConnectingIsAProtocolError() {
            ConnectionProtocol c = protocol(SocketType.STREAM);
            c.connect();
            out.sent.clear();
            c.onPacket(data(10));
            assertThat(out.only().op).isEqualTo(OP_RST);
            assertThat(c.state().phase()).isEqualTo(CLOSED);
            assertThat(c.error()).isEqualTo(Errno.EPROTO);
        }

        @Test
        void aTimedOutConnectSendsNothing() {
            ConnectionProtocol c = protocol(SocketType.STREAM);
            c.connect();
            out.sent.clear();
            c.connectTimedOut();
            out.nothingSent();
            assertThat(c.state().phase()).isEqualTo(CLOSED);
        }

        @Test
        void connectTwiceIsMisuse() {
            ConnectionProtocol c = protocol(SocketType.STREAM);
            c.connect();
            assertThatThrownBy(c::connect).isInstanceOf(IllegalStateException.class);
        }
    }

    @Nested
    class Credit {
        @Test
        void sendingUsesUpThePeersCreditAndAnUpdateGivesItBack() {
            ConnectionProtocol c = established(SocketType.STREAM);
            send(c, BUFFER - 100);
            assertThat(c.txSpace()).isEqualTo(100);
            send(c, 100);
            assertThat(c.txSpace()).as("credit exhausted").isZero();
            assertThat(out.sent).hasSize(2).allSatisfy(p -> assertThat(p.op).isEqualTo(OP_RW));

            c.onPacket(fromPeer(SocketType.STREAM, OP_CREDIT_UPDATE, 0, BUFFER, 4096));
            assertThat(c.txSpace()).as("the peer's reader consumed 4 KiB").isEqualTo(4096);
            assertThat(out.writerWakeups).as("a writer waiting for credit is woken").isGreaterThanOrEqualTo(1);
        }

        @Test
        void aCreditRequestIsAnsweredWithAnUpdate() {
            ConnectionProtocol c = established(SocketType.STREAM);
            c.onPacket(fromPeer(OP_CREDIT_REQUEST));
            Packet update = out.only();
            assertThat(update.op).isEqualTo(OP_CREDIT_UPDATE);
            assertThat(update.bufAlloc).isEqualTo(BUFFER);
        }

        @Test
        void dataWithinCreditIsQueuedAndWakesTheReader() {
            ConnectionProtocol c = established(SocketType.STREAM);
            c.onPacket(data(1000));
            out.nothingSent();
            assertThat(c.queuedBytes()).isEqualTo(1000);
            assertThat(out.readerWakeups).isEqualTo(1);
        }

        @Test
        void theReaderAnnouncesCreditOnlyOnceTheSenderRunsShort() {
            ConnectionProtocol c = established(SocketType.STREAM);
            for (int i = 0; i < 4; i++) {
                c.onPacket(data(BUFFER / 4));
            }
            byte[] sink = new byte[BUFFER];
            c.consumed(c.readStream(ByteBuffer.wrap(sink), 0, 1000, false));
            // The sender still believes 1000 bytes free, under one full packet: Linux's rule says announce.
            Packet update = out.only();
            assertThat(update.op).isEqualTo(OP_CREDIT_UPDATE);
            assertThat(update.fwdCnt).isEqualTo(1000);
            assertThat(c.readStream(ByteBuffer.wrap(sink), 0, 100, true)).isEqualTo(100);
            out.nothingSent(); // a peek consumes nothing
        }

        @Test
        void dataBeyondOurCreditResetsTheConnection() {
            ConnectionProtocol c = established(SocketType.STREAM);
            c.onPacket(data(BUFFER));
            c.onPacket(data(1));
            assertThat(out.only().op).isEqualTo(OP_RST);
            assertThat(c.state().phase()).isEqualTo(CLOSING);
            assertThat(c.queuedBytes()).as("the overrun is not queued").isEqualTo(BUFFER);
        }
    }

    @Nested
    class HalfClose {
        @Test
        void thePeerShuttingSendMeansEofAfterTheQueueButWeMaySendOn() {
            ConnectionProtocol c = established(SocketType.STREAM);
            c.onPacket(data(10));
            c.onPacket(fromPeer(SocketType.STREAM, OP_SHUTDOWN, SHUTDOWN_SEND, BUFFER, 0));
            out.nothingSent();
            assertThat(c.noMoreData()).isTrue();
            assertThat(c.queuedBytes()).isEqualTo(10);
            assertThat(c.canSend()).isTrue();
            assertThat(c.state().peerShutdown()).isEqualTo(SHUTDOWN_SEND);
        }

        @Test
        void thePeerShuttingReceiveStopsOurSendsButNotOurReads() {
            ConnectionProtocol c = established(SocketType.STREAM);
            c.onPacket(fromPeer(SocketType.STREAM, OP_SHUTDOWN, SHUTDOWN_RCV, BUFFER, 0));
            assertThat(c.canSend()).isFalse();
            assertThat(c.noMoreData()).isFalse();
        }

        @Test
        void ourShutdownOfSendIsAnnouncedOnceAndStopsOurSends() {
            ConnectionProtocol c = established(SocketType.STREAM);
            assertThat(c.shutdown(SHUTDOWN_SEND)).isTrue();
            Packet shutdown = out.only();
            assertThat(shutdown.op).isEqualTo(OP_SHUTDOWN);
            assertThat(shutdown.flags).isEqualTo(SHUTDOWN_SEND);
            assertThat(c.canSend()).isFalse();
            c.shutdown(SHUTDOWN_SEND);
            out.nothingSent();
            c.shutdown(SHUTDOWN_BOTH);
            assertThat(out.only().flags).as("only what is new").isEqualTo(SHUTDOWN_RCV);
            assertThat(c.receiveShut()).isTrue();
        }

        @Test
        void bothShutAndDrainedEndsTheProtocolWithOurRst() {
            overByThePeersShutdown();
            assertThat(out.finished).as("the socket still holds it until close").isZero();
        }

        @Test
        void bothShutWithBytesQueuedWaitsForTheReader() {
            ConnectionProtocol c = established(SocketType.STREAM);
            c.onPacket(data(5));
            c.onPacket(fromPeer(SocketType.STREAM, OP_SHUTDOWN, SHUTDOWN_BOTH, BUFFER, 0));
            out.nothingSent();
            assertThat(c.state().phase()).isEqualTo(ESTABLISHED);
        }

        @Test
        void shutdownBeforeConnectingIsRefused() {
            assertThat(protocol(SocketType.STREAM).shutdown(SHUTDOWN_BOTH)).isFalse();
            out.nothingSent();
        }
    }

    @Nested
    class ResetInEveryState {
        @Test
        void idle() {
            ConnectionProtocol c = protocol(SocketType.STREAM);
            c.onPacket(fromPeer(OP_RST));
            out.nothingSent(); // an RST is never answered
            c.onPacket(data(1));
            assertThat(out.only().op).as("anything else is answered with RST").isEqualTo(OP_RST);
            assertThat(c.state().phase()).isEqualTo(IDLE);
        }

        @Test
        void established() {
            ConnectionProtocol c = ConnectionProtocolTest.this.established(SocketType.STREAM);
            c.onPacket(data(3));
            c.onPacket(fromPeer(OP_RST));
            out.nothingSent();
            assertThat(c.state().phase()).isEqualTo(CLOSING);
            assertThat(c.state().peerShutdown()).isEqualTo(SHUTDOWN_BOTH);
            assertThat(c.queuedBytes()).as("the reader drains what came first").isEqualTo(3);
            assertThat(c.canSend()).isFalse();
            assertThat(out.readerWakeups).isGreaterThanOrEqualTo(1);
            assertThat(out.writerWakeups).isGreaterThanOrEqualTo(1);
        }

        @Test
        void closingAndClosed() {
            ConnectionProtocol c = ConnectionProtocolTest.this.established(SocketType.STREAM);
            c.onPacket(fromPeer(OP_RST));
            c.onPacket(fromPeer(OP_RST));
            out.nothingSent();
            c.onPacket(data(1));
            assertThat(out.only().op).isEqualTo(OP_RST);
            c.release();
            assertThat(c.state().phase()).isEqualTo(CLOSED);
            assertThat(out.finished).isEqualTo(1);
            c.onPacket(fromPeer(OP_RST));
            out.nothingSent();
            c.onPacket(fromPeer(OP_CREDIT_REQUEST));
            assertThat(out.only().op).isEqualTo(OP_RST);
        }

        @Test
        void anUnknownOpResetsThisConnectionOnly() {
            ConnectionProtocol c = ConnectionProtocolTest.this.established(SocketType.STREAM);
            Recorder otherOut = new Recorder();
            ConnectionProtocol other = new ConnectionProtocol(otherOut, SocketType.STREAM, US, VsockAddress.of(2, 5001), BUFFER, 1);
            other.connect();
            other.onPacket(fromPeer(OP_RESPONSE));

            c.onPacket(fromPeer(OP_REQUEST)); // REQUEST on an established connection makes no sense
            Packet rst = out.only();
            assertThat(rst.op).isEqualTo(OP_RST);
            assertThat(rst.destination()).isEqualTo(PEER);
            assertThat(c.state().phase()).isEqualTo(CLOSING);
            assertThat(other.state().phase()).isEqualTo(ESTABLISHED);
            assertThat(other.canSend()).isTrue();
        }
    }

    @Nested
    class Close {
        @Test
        void closeAnnouncesBothDirectionsAndWaitsForThePeersRst() {
            ConnectionProtocol c = established(SocketType.STREAM);
            assertThat(c.release()).as("the peer's RST is awaited").isTrue();
            Packet shutdown = out.only();
            assertThat(shutdown.op).isEqualTo(OP_SHUTDOWN);
            assertThat(shutdown.flags).isEqualTo(SHUTDOWN_BOTH);
            assertThat(out.finished).isZero();

            c.onPacket(fromPeer(OP_RST));
            out.nothingSent();
            assertThat(c.state().phase()).isEqualTo(CLOSED);
            assertThat(out.finished).isEqualTo(1);
            assertThat(c.release()).as("idempotent").isFalse();
            assertThat(out.finished).isEqualTo(1);
        }

        @Test
        void aPeerThatNeverAnswersGetsOurRstAtTheTimeout() {
            ConnectionProtocol c = established(SocketType.STREAM);
            c.release();
            out.sent.clear();
            c.closeTimedOut();
            assertThat(out.only().op).isEqualTo(OP_RST);
            assertThat(c.state().phase()).isEqualTo(CLOSED);
            assertThat(out.finished).isEqualTo(1);
            c.closeTimedOut();
            out.nothingSent();
        }

        @Test
        void closeAfterThePeerShutBothWaysResetsAtOnce() {
            ConnectionProtocol c = established(SocketType.STREAM);
            c.onPacket(data(1));
            c.onPacket(fromPeer(SocketType.STREAM, OP_SHUTDOWN, SHUTDOWN_BOTH, BUFFER, 0));
            out.nothingSent();
            assertThat(c.release()).isFalse();
            assertThat(out.only().op).isEqualTo(OP_RST);
            assertThat(c.state().phase()).isEqualTo(CLOSED);
            assertThat(c.queuedBytes()).as("unread bytes go with the socket").isZero();
        }

        @Test
        void aTransportResetLeavesTheQueueReadableUntilClose() {
            ConnectionProtocol c = established(SocketType.STREAM);
            c.onPacket(data(7));
            c.transportReset();
            out.nothingSent();
            assertThat(c.state().phase()).isEqualTo(CLOSED);
            assertThat(out.finished).isEqualTo(1);
            assertThat(c.error()).isEqualTo(Errno.ECONNRESET);
            assertThat(c.receiveError()).as("read after the queue").isEqualTo(Errno.ECONNRESET);
            assertThat(c.queuedBytes()).isEqualTo(7);
            c.release();
            assertThat(c.queuedBytes()).isZero();
            assertThat(out.finished).as("finished once").isEqualTo(1);
        }

        @Test
        void aTransportResetAfterTheProtocolWasOverLeavesEofNotAnError() {
            // As Linux's SOCK_DONE: the peer shut both ways with nothing queued, we answered RST, and the
            // reader has not looked yet. A reset now (a shared machine's peer process exiting) loses nothing.
            ConnectionProtocol c = overByThePeersShutdown();
            c.transportReset();
            out.nothingSent();
            assertThat(c.error()).as("nothing was lost").isNull();
            assertThat(c.noMoreData()).isTrue();
            assertThat(c.receiveError()).isNull();
            assertThat(out.finished).isEqualTo(1);
        }

        @Test
        void aTransportResetAfterThePeerShutSendingLeavesItsWholeStreamAndThenEof() {
            ConnectionProtocol c = established(SocketType.STREAM);
            c.onPacket(data(7));
            c.onPacket(fromPeer(SocketType.STREAM, OP_SHUTDOWN, SHUTDOWN_SEND, BUFFER, 0));
            c.transportReset();
            out.nothingSent();
            assertThat(c.queuedBytes()).isEqualTo(7);
            assertThat(c.receiveError()).as("every byte the peer will ever send is here").isNull();
            assertThat(c.error()).as("a writer still learns of the reset").isEqualTo(Errno.ECONNRESET);
        }

        @Test
        void aTransportResetWhileThePeerMaySendStillEndsReadsWithEconnreset() {
            ConnectionProtocol c = established(SocketType.STREAM);
            c.onPacket(fromPeer(SocketType.STREAM, OP_SHUTDOWN, SHUTDOWN_RCV, BUFFER, 0));
            c.transportReset();
            assertThat(c.receiveError()).isEqualTo(Errno.ECONNRESET);
        }

        @Test
        void closingAnUnconnectedConnectionFinishesAtOnce() {
            ConnectionProtocol c = protocol(SocketType.STREAM);
            assertThat(c.release()).isFalse();
            out.nothingSent();
            assertThat(c.state().phase()).isEqualTo(CLOSED);
        }
    }

    @Nested
    class Seqpacket {
        @Test
        void aMessageIsReadWholeAndEachReadAnnouncesCredit() {
            ConnectionProtocol c = established(SocketType.SEQPACKET);
            Packet first = fromPeer(SocketType.SEQPACKET, OP_RW, 0, BUFFER, 0);
            first.payload = new byte[] {1, 2};
            first.len = 2;
            c.onPacket(first);
            assertThat(c.queuedMessages()).as("no EOM yet").isZero();
            assertThat(out.readerWakeups).isZero();
            Packet last = fromPeer(SocketType.SEQPACKET, OP_RW, SEQ_EOM | SEQ_EOR, BUFFER, 0);
            last.payload = new byte[] {3};
            last.len = 1;
            c.onPacket(last);
            assertThat(c.queuedMessages()).isEqualTo(1);
            assertThat(out.readerWakeups).isEqualTo(1);

            byte[] dst = new byte[2];
            assertThat(c.readMessage(ByteBuffer.wrap(dst), 0, 2, false)).as("the real length").isEqualTo(3);
            assertThat(c.lastMessageCopiedBytes()).isEqualTo(2);
            assertThat(c.lastMessageEndOfRecord()).isTrue();
            assertThat(dst).containsExactly(1, 2);
            assertThat(out.only().op).isEqualTo(OP_CREDIT_UPDATE);
        }
    }

    @Test
    void statesOnlyMoveForward() {
        ConnectionState established = ConnectionState.of(ESTABLISHED, 0, 0);
        assertThatThrownBy(() -> established.to(CONNECTING)).isInstanceOf(IllegalStateException.class);
        assertThat(established.withLocalShutdown(SHUTDOWN_SEND).withLocalShutdown(SHUTDOWN_RCV).localShutdown())
                .isEqualTo(SHUTDOWN_BOTH);
        assertThat(established.withPeerShutdown(SHUTDOWN_SEND)).isSameAs(ConnectionState.of(ESTABLISHED, 0, SHUTDOWN_SEND));
        assertThat(established.done().phase()).isEqualTo(CLOSING);
        assertThat(ConnectionState.of(CONNECTING, 0, 0).done().phase()).isEqualTo(CLOSED);
    }
}
