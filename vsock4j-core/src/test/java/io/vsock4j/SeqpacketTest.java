package io.vsock4j;

import org.junit.jupiter.api.Test;

import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** SEQPACKET: message boundaries, MSG_EOR, MSG_TRUNC, MSG_PEEK, EMSGSIZE, SO_RCVTIMEO. */
class SeqpacketTest extends LoopbackFixture {
    private static final int BUFFER = 256 * 1024;

    private VsockSeqpacketSocket[] pair(int port) throws Exception {
        VsockSeqpacketServerSocket server = track(VsockSeqpacketServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, port)));
        VsockSeqpacketSocket client = track(VsockSeqpacketSocket.connect(machine, VsockAddress.local(port)));
        VsockSeqpacketSocket accepted = track(server.accept());
        return new VsockSeqpacketSocket[] {client, accepted};
    }

    @Test
    void boundariesSurviveRandomSizesWithRandomEor() throws Exception {
        VsockSeqpacketSocket[] p = pair(8100);
        int count = 600;
        Future<String> sender = peer(() -> {
            Random random = new Random(5);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (int i = 0; i < count; i++) {
                // Mostly small, sometimes up to the whole buffer: those travel as several packets.
                int size = random.nextInt(10) == 0 ? 1 + random.nextInt(BUFFER) : 1 + random.nextInt(3000);
                byte[] message = new byte[size];
                random.nextBytes(message);
                boolean eor = random.nextBoolean();
                p[0].send(message, 0, size, eor ? MessageFlags.MSG_EOR : 0);
                sha.update(message);
                sha.update((byte) (eor ? 1 : 0));
                sha.update(intBytes(size));
            }
            return HexFormat.of().formatHex(sha.digest());
        });
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[BUFFER];
        MessageInfo info = new MessageInfo();
        for (int i = 0; i < count; i++) {
            int n = p[1].receive(buf, 0, buf.length, 0, info);
            assertThat(info.truncated()).isFalse();
            assertThat(info.length()).isEqualTo(n);
            sha.update(buf, 0, n);
            sha.update((byte) (info.endOfRecord() ? 1 : 0));
            sha.update(intBytes(n));
        }
        assertThat(HexFormat.of().formatHex(sha.digest())).isEqualTo(sender.get(30, TimeUnit.SECONDS));
    }

    private static byte[] intBytes(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    @Test
    void aShortBufferTruncatesAndSaysSo() throws Exception {
        VsockSeqpacketSocket[] p = pair(8101);
        byte[] message = "0123456789".getBytes();
        p[0].send(message);
        p[0].send(message);
        p[0].send("next".getBytes());
        byte[] small = new byte[4];
        MessageInfo info = new MessageInfo();
        assertThat(p[1].receive(small, 0, 4, 0, info)).isEqualTo(4);
        assertThat(new String(small)).isEqualTo("0123");
        assertThat(info.truncated()).isTrue();
        assertThat(info.length()).isEqualTo(10);
        // With MSG_TRUNC the call returns the real length.
        assertThat(p[1].receive(small, 0, 4, MessageFlags.MSG_TRUNC, info)).isEqualTo(10);
        // The rest of a cut message is gone: the next receive is the next message.
        byte[] buf = new byte[100];
        assertThat(p[1].receive(buf, 0, 100, 0, info)).isEqualTo(4);
        assertThat(new String(buf, 0, 4)).isEqualTo("next");
        assertThat(info.truncated()).isFalse();
    }

    @Test
    void peekReturnsTheNextMessageAndLeavesIt() throws Exception {
        VsockSeqpacketSocket[] p = pair(8102);
        byte[] buf = new byte[64];
        assertThat(p[1].receive(buf, 0, 64, MessageFlags.MSG_PEEK | MessageFlags.MSG_DONTWAIT, null)).isZero();
        p[0].send("first".getBytes(), 0, 5, MessageFlags.MSG_EOR);
        p[0].send("second".getBytes());
        MessageInfo info = new MessageInfo();
        assertThat(p[1].receive(buf, 0, 64, MessageFlags.MSG_PEEK, info)).isEqualTo(5);
        assertThat(info.endOfRecord()).isTrue();
        assertThat(p[1].receive(buf, 0, 64, 0, info)).isEqualTo(5);
        assertThat(new String(buf, 0, 5)).isEqualTo("first");
        assertThat(p[1].receive(buf, 0, 64, 0, info)).isEqualTo(6);
        assertThat(info.endOfRecord()).isFalse();
    }

    @Test
    void aMessageBiggerThanThePeersBufferIsEMSGSIZE() throws Exception {
        VsockSeqpacketSocket[] p = pair(8103);
        byte[] tooBig = new byte[BUFFER + 1];
        assertThatThrownBy(() -> p[0].send(tooBig))
                .isInstanceOf(SocketException.class).hasMessageStartingWith("EMSGSIZE");
        byte[] fits = new byte[BUFFER];
        p[0].send(fits);
        byte[] buf = new byte[BUFFER];
        assertThat(p[1].receive(buf)).isEqualTo(BUFFER);
    }

    @Test
    void theSendersOwnSmallerBufferAlsoCapsTheMessageSize() throws Exception {
        VsockSeqpacketSocket[] p = pair(8108);
        p[0].setOption(VsockOptions.BUFFER_SIZE, 4096L);
        // Current kernels cap in-flight data at min(peer buf_alloc, own buf_alloc); a larger message
        // could never be completed, so it is refused instead of hanging.
        assertThatThrownBy(() -> p[0].send(new byte[4097])).hasMessageStartingWith("EMSGSIZE");
        assertThat(p[0].send(new byte[4096])).isEqualTo(4096);
        assertThat(p[1].receive(new byte[8192])).isEqualTo(4096);
    }

    @Test
    void aReceiveTimeoutIsEAGAINAndLeavesTheSocketUsable() throws Exception {
        VsockSeqpacketSocket[] p = pair(8104);
        p[1].setSoTimeout(200);
        long start = System.nanoTime();
        assertThatThrownBy(() -> p[1].receive(new byte[10]))
                .isInstanceOf(SocketTimeoutException.class).hasMessageStartingWith("EAGAIN");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(200);
        p[0].send(new byte[] {7});
        byte[] buf = new byte[10];
        assertThat(p[1].receive(buf)).isEqualTo(1);
        assertThat(buf[0]).isEqualTo((byte) 7);
    }

    @Test
    void closeIsEofAfterTheLastMessage() throws Exception {
        VsockSeqpacketSocket[] p = pair(8105);
        p[0].send("bye".getBytes());
        p[0].close();
        byte[] buf = new byte[10];
        assertThat(p[1].receive(buf)).isEqualTo(3);
        assertThat(p[1].receive(buf)).isEqualTo(-1);
    }

    @Test
    void aSenderBlockedOnAFullBufferGoesOnWhenAMessageIsRead() throws Exception {
        VsockSeqpacketSocket[] p = pair(8106);
        byte[] half = new byte[BUFFER / 2];
        p[0].send(half);
        p[0].send(half);
        Future<Integer> third = peer(() -> p[0].send(half));
        Thread.sleep(100);
        assertThat(third.isDone()).as("no credit for a third half-buffer message").isFalse();
        byte[] buf = new byte[BUFFER];
        assertThat(p[1].receive(buf)).isEqualTo(half.length);
        assertThat(third.get(5, TimeUnit.SECONDS)).isEqualTo(half.length);
    }

    @Test
    void typesDoNotMix() throws Exception {
        track(VsockSeqpacketServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, 8107)));
        VsockSocket stream = track(VsockSocket.open(machine));
        assertThatThrownBy(() -> stream.connect(VsockAddress.local(8107))).hasMessageStartingWith("ECONNRESET");
    }
}
