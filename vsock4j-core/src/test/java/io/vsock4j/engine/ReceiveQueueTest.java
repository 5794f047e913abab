package io.vsock4j.engine;

import io.vsock4j.wire.PayloadPool;
import io.vsock4j.wire.VirtioVsock;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** The receive queue's claim, copy and commit: what a reader sees while packets keep arriving, or a close comes. */
class ReceiveQueueTest {
    private static final int FULL = VirtioVsock.MAX_PACKET_PAYLOAD_BYTES;

    private static byte[] filled(int len, int value) {
        byte[] b = new byte[len];
        Arrays.fill(b, (byte) value);
        return b;
    }

    @Test
    void smallPayloadsBetweenLargerOnesHoldNoMoreArrayThanTheirBytesAndStayInOrder() {
        // 1 and 129 bytes in turn: each 1-byte payload starts a merge chunk that nothing merges into.
        // Before the cut, each held a 1024-byte array: 8.9 times the bytes queued.
        ReceiveQueue q = new ReceiveQueue();
        java.io.ByteArrayOutputStream sent = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < 1000; i++) {
            byte[] one = filled(1, i);
            byte[] more = filled(129, i + 1);
            q.enqueue(one, 0, 1, 0);
            q.enqueue(more, 0, 129, 0);
            sent.writeBytes(one);
            sent.writeBytes(more);
        }
        assertThat(q.bytes()).isEqualTo(130_000);
        assertThat(q.retainedBytes()).isEqualTo(130_000);
        // Runs of small payloads still merge, up to the room of one chunk.
        for (int i = 0; i < 100; i++) {
            byte[] b = filled(100, i);
            q.enqueue(b, 0, 100, 0);
            sent.writeBytes(b);
        }
        assertThat(q.retainedBytes()).isLessThanOrEqualTo(q.bytes() * 8L / 7 + 1024);
        byte[] got = new byte[q.bytes()];
        assertThat(q.readStream(ByteBuffer.wrap(got), 0, got.length, false)).isEqualTo(got.length);
        assertThat(got).isEqualTo(sent.toByteArray());
    }

    @Test
    void aClaimedCopyIsUntouchedByArrivalsAndMergesBehindIt() {
        ReceiveQueue q = new ReceiveQueue();
        q.enqueue(filled(100, 1), 0, 100, 0); // small: copied into a mergeable chunk
        int claimed = q.claim(1000);
        assertThat(claimed).isEqualTo(100);
        // While the reader copies without the lock: a small payload merges into the same chunk, a big one queues.
        q.enqueue(filled(50, 2), 0, 50, 0);
        q.enqueue(filled(FULL, 3), 0, FULL, 0);
        byte[] dst = new byte[1000];
        q.copyClaimed(ByteBuffer.wrap(dst), 0);
        assertThat(q.commitClaimed(claimed)).isEqualTo(100);
        assertThat(Arrays.copyOf(dst, 100)).containsOnly(1);
        assertThat(dst[100]).isZero();
        assertThat(q.bytes()).isEqualTo(50 + FULL);
        byte[] rest = new byte[50 + FULL];
        assertThat(q.readStream(ByteBuffer.wrap(rest), 0, rest.length, false)).isEqualTo(rest.length);
        assertThat(Arrays.copyOf(rest, 50)).containsOnly(2);
        assertThat(Arrays.copyOfRange(rest, 50, rest.length)).containsOnly(3);
        assertThat(q.isEmpty()).isTrue();
    }

    @Test
    void aClaimTakesTheHeadChunkUpToWhatTheReaderWants() {
        ReceiveQueue q = new ReceiveQueue();
        for (int i = 0; i < 2; i++) {
            q.enqueue(filled(FULL, 10 + i), 0, FULL, 0);
        }
        byte[] dst = new byte[FULL + 7];
        assertThat(q.claim(dst.length)).isEqualTo(FULL); // one chunk at a time
        q.copyClaimed(ByteBuffer.wrap(dst), 0);
        assertThat(q.commitClaimed(FULL)).isEqualTo(FULL);
        assertThat(q.headChunkBytes()).isEqualTo(FULL);
        assertThat(q.claim(7)).isEqualTo(7);
        q.copyClaimed(ByteBuffer.wrap(dst), FULL);
        assertThat(q.commitClaimed(7)).isEqualTo(7);
        assertThat(Arrays.copyOf(dst, FULL)).containsOnly(10);
        assertThat(Arrays.copyOfRange(dst, FULL, dst.length)).containsOnly(11);
        assertThat(q.bytes()).isEqualTo(FULL - 7);
        assertThat(q.headChunkBytes()).isEqualTo(FULL - 7);
    }

    @Test
    void aClearDuringTheCopyConsumesNothingAndKeepsTheArraysOutOfThePool() {
        ReceiveQueue q = new ReceiveQueue();
        byte[] payload = filled(FULL, 7);
        q.enqueue(payload, 0, FULL, 0);
        int claimed = q.claim(FULL);
        assertThat(q.clear()).isEqualTo(FULL); // the connection is finished by another thread
        // A sender taking pooled arrays now must not get the one being copied from.
        for (int i = 0; i < PayloadPool.MAX_POOLED_ARRAYS + 1; i++) {
            assertThat(PayloadPool.take(FULL)).isNotSameAs(payload);
        }
        byte[] dst = new byte[FULL];
        q.copyClaimed(ByteBuffer.wrap(dst), 0);
        assertThat(dst).containsOnly(7);
        assertThat(q.commitClaimed(claimed)).isZero();
        assertThat(q.isEmpty()).isTrue();
    }
}
