package io.vsock4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Java engine's sockets send from and receive into direct buffers without an array in between
 * ({@link SocketHandle#send(ByteBuffer, int, long)}, {@link SocketHandle#receive(ByteBuffer, int, long)}):
 * bytes are read from and written at the buffer's position, which moves by what was copied, whatever the
 * position was, across packets and the engine's unlocked copies of large chunks; and a SEQPACKET message
 * cut by MSG_TRUNC moves it by what fitted, not by the length returned; a read-only buffer is refused
 * with the bytes left queued.
 */
class DirectBufferHandleTest extends LoopbackFixture {
    private static final long NO_TIMEOUT = 0;

    @Test
    void aStreamCarriesDirectBuffersFromAndToTheirPositions() throws Exception {
        byte[] data = new byte[300_000]; // several full packets and a tail
        new SplittableRandom(7).nextBytes(data);
        VsockServerSocket server = listen(5100);
        Future<byte[]> received = peers.submit(() -> {
            try (VsockSocket in = server.accept()) {
                ByteBuffer dst = ByteBuffer.allocateDirect(data.length + 50);
                dst.position(50);
                while (dst.hasRemaining()) {
                    int n = in.handle().receive(dst, 0, NO_TIMEOUT);
                    assertThat(n).as("no EOF before every byte").isPositive();
                }
                byte[] got = new byte[data.length];
                dst.get(50, got);
                return got;
            }
        });
        try (VsockSocket out = connect(5100)) {
            ByteBuffer src = ByteBuffer.allocateDirect(data.length + 123);
            src.put(123, data);
            src.position(123);
            while (src.hasRemaining()) {
                out.handle().send(src, 0, NO_TIMEOUT);
            }
            assertThat(src.position()).isEqualTo(data.length + 123);
        }
        assertThat(Arrays.equals(received.get(), data)).isTrue();
    }

    @Test
    @Timeout(10)
    void aReadOnlyBufferIsRefusedAtOnceAndTheBytesStayQueued() throws Exception {
        VsockServerSocket server = listen(5102);
        try (VsockSocket out = connect(5102); VsockSocket in = track(server.accept())) {
            // Refused at once, before the receive waits: nothing is queued yet, so a check after the wait
            // would leave this call blocked.
            ByteBuffer readOnly = ByteBuffer.allocateDirect(8).asReadOnlyBuffer();
            assertThatThrownBy(() -> in.handle().receive(readOnly, 0, NO_TIMEOUT)).isInstanceOf(ReadOnlyBufferException.class);
            out.getOutputStream().write(new byte[] {1, 2, 3});
            assertThatThrownBy(() -> in.handle().receive(readOnly, 0, NO_TIMEOUT)).isInstanceOf(ReadOnlyBufferException.class);
            ByteBuffer dst = ByteBuffer.allocateDirect(8);
            while (dst.position() < 3) {
                in.handle().receive(dst, 0, NO_TIMEOUT);
            }
            assertThat(dst.get(0)).isEqualTo((byte) 1);
            assertThat(dst.get(2)).isEqualTo((byte) 3);
        }
    }

    @Test
    void aTruncatedMessageMovesTheDirectBufferByWhatFitted() throws Exception {
        VsockSeqpacketServerSocket server = track(VsockSeqpacketServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, 5101)));
        try (VsockSeqpacketSocket out = track(VsockSeqpacketSocket.connect(machine, VsockAddress.local(5101)));
             VsockSeqpacketSocket in = track(server.accept())) {
            ByteBuffer message = ByteBuffer.allocateDirect(10);
            message.put(new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}).flip();
            assertThat(out.handle().send(message, 0, NO_TIMEOUT)).isEqualTo(10);

            ByteBuffer dst = ByteBuffer.allocateDirect(8);
            dst.position(4);
            int n = in.handle().receive(dst, MessageFlags.MSG_TRUNC, NO_TIMEOUT);
            assertThat(n).as("MSG_TRUNC returns the message's real length").isEqualTo(10);
            assertThat(dst.position()).as("moved by the four bytes that fitted").isEqualTo(8);
            byte[] got = new byte[4];
            dst.get(4, got);
            assertThat(got).containsExactly(0, 1, 2, 3);
        }
    }
}
