package io.vsock4j.cli.proxy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The relay's buffer sizes itself by the reads it sees: it doubles after reads that fill it, halves after a
 * run of small ones, and stays between 128 KiB and 1 MiB. Reads are described to it, not made.
 */
@Timeout(30)
class CopyBufferTest {
    @Test
    void startsAt128KiBDirectAndCleared() {
        try (CopyBuffer b = new CopyBuffer()) {
            ByteBuffer buf = b.forRead();
            assertThat(buf.isDirect()).isTrue();
            assertThat(buf.capacity()).isEqualTo(128 << 10);
            buf.position(100).limit(200);
            assertThat(b.forRead().position()).isZero();
            assertThat(b.forRead().limit()).isEqualTo(128 << 10);
        }
    }

    @Test
    void bulkReadsDoubleItUpToOneMiB() {
        try (CopyBuffer b = new CopyBuffer()) {
            fullReads(b, 1);
            assertThat(b.capacity()).as("one full read is not yet bulk").isEqualTo(128 << 10);
            fullReads(b, 1);
            assertThat(b.capacity()).isEqualTo(256 << 10);
            fullReads(b, 2);
            assertThat(b.capacity()).isEqualTo(512 << 10);
            fullReads(b, 2);
            assertThat(b.capacity()).isEqualTo(1 << 20);
            fullReads(b, 10);
            assertThat(b.capacity()).isEqualTo(1 << 20);
            assertThat(b.forRead().capacity()).isEqualTo(1 << 20);
        }
    }

    @Test
    void fullReadsMustComeInARow() {
        try (CopyBuffer b = new CopyBuffer()) {
            for (int i = 0; i < 20; i++) {
                b.afterRead(b.capacity());
                b.afterRead(b.capacity() / 2); // neither full nor small: starts the count again
            }
            assertThat(b.capacity()).isEqualTo(128 << 10);
        }
    }

    @Test
    void aRunOfSmallReadsHalvesItDownTo128KiB() {
        try (CopyBuffer b = new CopyBuffer()) {
            fullReads(b, 6);
            assertThat(b.capacity()).isEqualTo(1 << 20);
            smallReads(b, CopyBuffer.SHRINK_AFTER - 1);
            assertThat(b.capacity()).isEqualTo(1 << 20);
            smallReads(b, 1);
            assertThat(b.capacity()).isEqualTo(512 << 10);
            smallReads(b, 3 * CopyBuffer.SHRINK_AFTER);
            assertThat(b.capacity()).isEqualTo(128 << 10);
        }
    }

    @Test
    void aFullReadBreaksARunOfSmallOnes() {
        try (CopyBuffer b = new CopyBuffer()) {
            fullReads(b, 2);
            assertThat(b.capacity()).isEqualTo(256 << 10);
            for (int i = 0; i < 5; i++) {
                smallReads(b, CopyBuffer.SHRINK_AFTER - 1);
                b.afterRead(b.capacity()); // breaks the run of small reads; one full read is not bulk
            }
            assertThat(b.capacity()).isEqualTo(256 << 10);
        }
    }

    @Test
    void aReplacedBufferStillWorks() {
        try (CopyBuffer b = new CopyBuffer()) {
            fullReads(b, 2);
            ByteBuffer buf = b.forRead();
            buf.put(new byte[buf.capacity()]);
            buf.flip();
            assertThat(buf.remaining()).isEqualTo(256 << 10);
        }
    }

    private static void fullReads(CopyBuffer b, int count) {
        for (int i = 0; i < count; i++) {
            b.afterRead(b.capacity());
        }
    }

    private static void smallReads(CopyBuffer b, int count) {
        for (int i = 0; i < count; i++) {
            b.afterRead(b.capacity() / 4 - 1);
        }
    }
}
