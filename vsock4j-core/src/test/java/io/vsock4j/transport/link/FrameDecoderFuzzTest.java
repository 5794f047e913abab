package io.vsock4j.transport.link;

import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.wire.VirtioVsockHeader;
import io.vsock4j.testing.Trials;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Fuzzes the frame decoder of cross-process links with what an untrusted peer may send: random
 * bytes, valid frames cut at random places, and valid frames with corrupted bytes or a truncated end.
 * Whatever comes in, the decoder returns packets that are well formed (payload exactly len, at most
 * 64 KiB) or throws its FrameException, never anything else. 13,000 seeded inputs in all ({@link Trials}:
 * a failure names the seed; {@code -Dvsock4j.test.seed=N} explores further), decode only.
 */
class FrameDecoderFuzzTest {

    /** Feeds {@code bytes} in chunks; returns the packets, stopping at a FrameException. */
    private static List<Packet> decodeAll(byte[] bytes, int chunk, boolean[] rejected) {
        FrameDecoder d = new FrameDecoder();
        List<Packet> out = new ArrayList<>();
        try {
            for (int off = 0; off < bytes.length; off += chunk) {
                ByteBuffer in = ByteBuffer.wrap(bytes, off, Math.min(chunk, bytes.length - off));
                Packet p;
                while ((p = d.next(in)) != null) {
                    checkWellFormed(p);
                    out.add(p);
                }
                check(!in.hasRemaining(), "a null from next() means the input was used up");
            }
        } catch (FrameDecoder.FrameException e) {
            rejected[0] = true;
        }
        return out;
    }

    /** Plain checks in the hot loop: AssertJ's per-call cost would dominate the decoding it checks. */
    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    private static void checkWellFormed(Packet p) {
        check(Integer.compareUnsigned(p.len, VirtioVsock.MAX_PACKET_PAYLOAD_BYTES) <= 0, "len within 64 KiB: " + p);
        check(p.payloadOffset == 0, "payload at offset 0");
        check(p.len == 0 || p.payload.length == p.len, "payload exactly len bytes: " + p);
    }

    @Test
    void randomBytesDecodeOrAreRejected() {
        Trials.forAll("randomBytesDecodeOrAreRejected", 5000, FrameDecoderFuzzTest::randomBytes);
    }

    private static void randomBytes(SplittableRandom r) {
        // Up to 200 random bytes; half the time the first header's len is made small (under 512) so
        // the decoder goes past it into a payload and the next header.
        byte[] bytes = new byte[r.nextInt(201)];
        r.nextBytes(bytes);
        if (bytes.length > VirtioVsock.HEADER_SIZE_BYTES && r.nextBoolean()) {
            bytes[26] = 0;
            bytes[27] = 0;
            bytes[25] &= 0x01;
        }
        boolean[] rejected = new boolean[1];
        List<Packet> packets = decodeAll(bytes, r.nextInt(1, 65), rejected);
        long framed = 0;
        for (Packet p : packets) {
            framed += VirtioVsock.HEADER_SIZE_BYTES + p.len;
        }
        check(framed <= bytes.length, "no more framed than given");
    }

    private static final long[] INTERESTING_CIDS = {0, 1, 2, 3, 0xFFFFFFFFL, 1L << 32, -1L};

    /** A packet drawn from one seed: every header field random, CIDs often well-known, payload 0..300 bytes. */
    private static Packet randomPacket(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Packet p = new Packet();
        p.srcCid = r.nextBoolean() ? INTERESTING_CIDS[r.nextInt(INTERESTING_CIDS.length)] : r.nextLong();
        p.dstCid = r.nextBoolean() ? INTERESTING_CIDS[r.nextInt(INTERESTING_CIDS.length)] : r.nextLong();
        p.srcPort = r.nextInt();
        p.dstPort = r.nextInt();
        p.type = r.nextInt(4) == 0 ? r.nextInt(0x10000) : r.nextInt(1, 3);
        p.op = r.nextInt(4) == 0 ? r.nextInt(0x10000) : r.nextInt(0, 8);
        p.flags = r.nextInt();
        p.bufAlloc = r.nextInt();
        p.fwdCnt = r.nextInt();
        byte[] payload = new byte[r.nextInt(4) == 0 ? 0 : r.nextInt(301)];
        r.nextBytes(payload);
        p.payload = payload;
        p.len = payload.length;
        return p;
    }

    /** 1 to {@code max} packets, each from its own seed drawn from {@code r}. */
    private static List<Packet> randomPackets(SplittableRandom r, int max) {
        List<Packet> packets = new ArrayList<>();
        for (int i = r.nextInt(1, max + 1); i > 0; i--) {
            packets.add(randomPacket(r.nextLong()));
        }
        return packets;
    }

    private static byte[] frames(List<Packet> packets) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Packet p : packets) {
            for (ByteBuffer b : FrameDecoder.encode(p)) {
                out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
            }
        }
        return out.toByteArray();
    }

    private static boolean sameHeader(Packet a, Packet b) {
        return a.srcCid == b.srcCid && a.dstCid == b.dstCid && a.srcPort == b.srcPort && a.dstPort == b.dstPort
                && a.len == b.len && a.type == b.type && a.op == b.op && a.flags == b.flags
                && a.bufAlloc == b.bufAlloc && a.fwdCnt == b.fwdCnt;
    }

    @Test
    void validFramesCutAnywhereDecodeToTheSamePackets() {
        Trials.forAll("validFramesCutAnywhereDecodeToTheSamePackets", 3000, FrameDecoderFuzzTest::validFramesCut);
    }

    /** 1 to 4 random packets, framed and fed in chunks of 1 to 97 bytes. */
    private static void validFramesCut(SplittableRandom r) {
        List<Packet> sent = randomPackets(r, 4);
        int chunk = r.nextInt(1, 98);
        boolean[] rejected = new boolean[1];
        List<Packet> got = decodeAll(frames(sent), chunk, rejected);
        check(!rejected[0], "valid frames are not rejected");
        check(got.size() == sent.size(), "every frame decoded");
        for (int i = 0; i < sent.size(); i++) {
            Packet a = sent.get(i);
            Packet b = got.get(i);
            check(sameHeader(a, b), "header " + b + " equals " + a);
            check(Arrays.equals(b.payloadBytes(), a.payloadBytes()), "payload of " + a);
        }
    }

    @Test
    void corruptedOrTruncatedFramesNeverBreakTheDecoder() {
        Trials.forAll("corruptedOrTruncatedFramesNeverBreakTheDecoder", 5000, FrameDecoderFuzzTest::corrupted);
    }

    private static void corrupted(SplittableRandom r) {
        // 1 to 3 frames, one byte overwritten, up to 50 bytes cut off.
        List<Packet> sent = randomPackets(r, 3);
        byte[] bytes = frames(sent);
        bytes[r.nextInt(bytes.length)] = (byte) r.nextInt();
        byte[] cut = Arrays.copyOf(bytes, Math.max(0, bytes.length - r.nextInt(51)));
        boolean[] rejected = new boolean[1];
        List<Packet> got = decodeAll(cut, r.nextInt(1, 65), rejected);
        check(got.size() <= sent.size() + cut.length / VirtioVsock.HEADER_SIZE_BYTES, "no more packets than headers");
    }

    @Test
    void theDecoderRejectsALengthAbove64KiBAndKeepsNoMoreThanOneFrame() {
        Packet p = randomPacket(1);
        p.len = VirtioVsock.MAX_PACKET_PAYLOAD_BYTES + 1;
        p.payload = new byte[0];
        byte[] header = VirtioVsockHeader.encode(p);
        assertThatThrownBy(() -> new FrameDecoder().next(ByteBuffer.wrap(header)))
                .isInstanceOf(FrameDecoder.FrameException.class).hasMessageContaining("65537");
        p.len = VirtioVsock.MAX_PACKET_PAYLOAD_BYTES;
        FrameDecoder d = new FrameDecoder();
        assertThat(catchThrowable(() -> assertThat(d.next(ByteBuffer.wrap(VirtioVsockHeader.encode(p)))).isNull())).isNull();
        assertThat(d.midFrame()).isTrue();
    }
}
