package io.vsock4j.transport.vhostuser;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vsock4j.virtqueue.DescriptorChain;
import io.vsock4j.virtqueue.DriverSide;
import io.vsock4j.virtqueue.SplitQueue;
import io.vsock4j.virtqueue.VirtioRing;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static io.vsock4j.wire.VirtioVsockHeader.OFFSET_BUF_ALLOC;
import static io.vsock4j.wire.VirtioVsockHeader.OFFSET_DST_CID;
import static io.vsock4j.wire.VirtioVsockHeader.OFFSET_DST_PORT;
import static io.vsock4j.wire.VirtioVsockHeader.OFFSET_FLAGS;
import static io.vsock4j.wire.VirtioVsockHeader.OFFSET_FWD_CNT;
import static io.vsock4j.wire.VirtioVsockHeader.OFFSET_LEN;
import static io.vsock4j.wire.VirtioVsockHeader.OFFSET_OP;
import static io.vsock4j.wire.VirtioVsockHeader.OFFSET_SRC_CID;
import static io.vsock4j.wire.VirtioVsockHeader.OFFSET_SRC_PORT;
import static io.vsock4j.wire.VirtioVsockHeader.OFFSET_TYPE;

/**
 * Fuzzes {@link GuestPackets}, the device's codec between a guest's descriptor chains and packets. The
 * chains are real: the input becomes descriptors in a {@link DriverSide}'s guest memory (three regions,
 * fenced by guard bytes), offered on a split queue and popped by {@link SplitQueue#pop}. Guest memory holds
 * random bytes at the start of every input, so a read from the wrong place gives other bytes.
 *
 * <ul>
 *   <li><b>tx</b>: up to 8 buffers anywhere in memory, overlapping or not, a few of them device-writable,
 *   a 44-byte header from the input written across the readable ones (with the input's say on whether
 *   len matches the chain, op is RW and the CIDs fit 32 bits). {@link GuestPackets#read} must not throw
 *   and must not write guest memory; it refuses (null and a reason) exactly the chains this test
 *   refuses by its own reading of the buffers (writable buffers, shorter than a header, a CID above 32
 *   bits, len above 64 KiB or not what the chain holds, a payload on another op than RW), and a packet
 *   it accepts has the header fields and the payload the buffers hold, read in chain order.</li>
 *   <li><b>rx</b>: a packet of any type, op, flags and length up to 64 KiB, written with
 *   {@link GuestPackets#fill} (one packet at a time) into chain after chain of up to 4 disjoint writable buffers of any size
 *   (sometimes with a readable buffer first), as the device's rx loop does; once the input runs out,
 *   4 KiB buffers as Linux posts them. A chain with a readable buffer or room for less than a header
 *   gets -1 and not a byte; otherwise each piece is as large as the room allows, its header is the
 *   packet's with len the piece's and SEQPACKET's EOM/EOR cleared on every piece but the last, its
 *   payload is the packet's next bytes, nothing is written past it, and the pieces add up to the
 *   packet.</li>
 * </ul>
 *
 * <p>{@code mvn test} replays the seed corpus under
 * {@code src/test/resources/io/vsock4j/transport/vhostuser/GuestPacketsFuzzTestInputs/packets/}. To fuzz
 * with coverage (Jazzer 0.24.0 cannot instrument Java 25 class files, so {@code JAZZER_FUZZ=1 mvn test}
 * fuzzes blind): {@code scripts/fuzz/fuzz.sh guest-packets [SECONDS]}.
 */
public class GuestPacketsFuzzTest {
    private static final int HEADER = VirtioVsock.HEADER_SIZE_BYTES;
    private static final int QUEUE_SIZE = 16;
    private static final int MAX_TX_BUFFERS = 8;
    private static final int MAX_RX_BUFFERS = 4;
    private static final int LINUX_RX_BUFFER_BYTES = 4096;
    /** Chains the input shapes per rx packet; after these, Linux's 4 KiB buffers finish the packet. */
    private static final int MAX_FUZZED_RX_CHAINS = 64;
    private static final int SEQ_END = VirtioVsock.SEQ_EOM | VirtioVsock.SEQ_EOR;

    private static final DriverSide DRIVER = new DriverSide(Arena.global(), QUEUE_SIZE);
    /** Where buffers go: the first region's data area and the two small regions. */
    private static final long[] AREA_GPA = {DRIVER.dataGpa, DRIVER.gappedGpa, DRIVER.adjacentGpa};
    private static final long[] AREA_BYTES = {DriverSide.DATA_BYTES, DriverSide.SMALL_REGION_BYTES,
        DriverSide.SMALL_REGION_BYTES};
    /** What each area holds at the start of every input. */
    private static final byte[][] PATTERN = new byte[AREA_GPA.length][];
    /** An rx packet's payload is a window of these bytes. */
    private static final byte[] PAYLOADS = new byte[VirtioVsock.MAX_PACKET_PAYLOAD_BYTES + 64];
    private static final GuestPackets CODEC = new GuestPackets();
    private static final DescriptorChain CHAIN = new DescriptorChain(QUEUE_SIZE);

    static {
        Random random = new Random(44);
        for (int i = 0; i < AREA_GPA.length; i++) {
            PATTERN[i] = new byte[(int) AREA_BYTES[i]];
            random.nextBytes(PATTERN[i]);
        }
        random.nextBytes(PAYLOADS);
    }

    @FuzzTest(maxDuration = "10m")
    void packets(FuzzedDataProvider data) {
        fuzzerTestOneInput(data);
    }

    /** One input; also the entry point of Jazzer's standalone driver. */
    public static void fuzzerTestOneInput(FuzzedDataProvider data) {
        DRIVER.reset();
        for (int i = 0; i < AREA_GPA.length; i++) {
            MemorySegment.copy(PATTERN[i], 0, area(i), ValueLayout.JAVA_BYTE, 0, PATTERN[i].length);
        }
        SplitQueue queue = DRIVER.queue(false);
        if (data.consumeBoolean()) {
            rx(queue, data);
        } else {
            tx(queue, data);
        }
        DRIVER.assertGuardsIntact();
    }

    private static void tx(SplitQueue queue, FuzzedDataProvider data) {
        byte[] header = Arrays.copyOf(data.consumeBytes(HEADER), HEADER);
        Buffers chain = new Buffers(MAX_TX_BUFFERS);
        int n = data.consumeInt(1, MAX_TX_BUFFERS);
        for (int i = 0; i < n; i++) {
            int area = data.consumeInt(0, AREA_GPA.length - 1);
            long offset = data.consumeLong(0, AREA_BYTES[area]);
            long upTo = data.consumeBoolean() ? Math.min(HEADER + 16, AREA_BYTES[area] - offset) : AREA_BYTES[area] - offset;
            chain.add(area, offset, (int) data.consumeLong(0, upTo), data.consumeInt(0, 7) == 0);
        }
        if (!offerAndPop(queue, chain)) {
            return; // a readable buffer after a writable one: the ring walker drops it (SplitQueueFuzzTest)
        }
        ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        long readable = chain.bytes(false);
        if (data.consumeBoolean()) {
            h.putInt(OFFSET_LEN, (int) Math.max(0, readable - HEADER));
        }
        if (data.consumeBoolean()) {
            h.putShort(OFFSET_OP, (short) VirtioVsock.OP_RW);
        }
        if (data.consumeBoolean()) {
            h.putInt(OFFSET_SRC_CID + 4, 0).putInt(OFFSET_DST_CID + 4, 0);
        }
        chain.copy(false, header, (int) Math.min(HEADER, readable), true);

        byte[][] before = new byte[AREA_GPA.length][];
        for (int i = 0; i < AREA_GPA.length; i++) {
            before[i] = area(i).toArray(ValueLayout.JAVA_BYTE);
        }
        Packet p = CODEC.read(CHAIN);
        assertAreas(before, "read wrote guest memory");

        // The verdict, from the buffers as the driver sees them now (a later buffer may overlap the header).
        byte[] seen = new byte[(int) Math.min(readable, HEADER + VirtioVsock.MAX_PACKET_PAYLOAD_BYTES + 1L)];
        chain.copy(false, seen, seen.length, false);
        String why = refusal(chain, seen, readable);
        if (p == null) {
            if (why == null) {
                throw new AssertionError("refused a good chain " + CHAIN + ": " + CODEC.refusal());
            }
            if (CODEC.refusal() == null || CODEC.refusal().isEmpty()) {
                throw new AssertionError("refused " + CHAIN + " (" + why + ") without a reason");
            }
            return;
        }
        if (why != null) {
            throw new AssertionError("accepted " + p + " from " + CHAIN + " though " + why);
        }
        ByteBuffer s = ByteBuffer.wrap(seen).order(ByteOrder.LITTLE_ENDIAN);
        assertHeader(p, s, p.len, p.flags, "read");
        if (p.payloadOffset != 0 || p.payload.length != p.len
                || !Arrays.equals(p.payload, 0, p.len, seen, HEADER, HEADER + p.len)) {
            throw new AssertionError("the payload of " + p + " is not the chain's bytes after the header");
        }
    }

    /** Why the device must refuse this tx chain, judged from {@code seen} (its readable bytes), or null. */
    private static String refusal(Buffers chain, byte[] seen, long readable) {
        if (chain.count(true) > 0) {
            return "writable buffers";
        }
        if (readable < HEADER) {
            return "shorter than a header";
        }
        ByteBuffer s = ByteBuffer.wrap(seen).order(ByteOrder.LITTLE_ENDIAN);
        long len = Integer.toUnsignedLong(s.getInt(OFFSET_LEN));
        if (s.getInt(OFFSET_SRC_CID + 4) != 0 || s.getInt(OFFSET_DST_CID + 4) != 0) {
            return "a CID above 32 bits";
        }
        if (len > VirtioVsock.MAX_PACKET_PAYLOAD_BYTES) {
            return "len " + len + " above 64 KiB";
        }
        if (len != 0 && Short.toUnsignedInt(s.getShort(OFFSET_OP)) != VirtioVsock.OP_RW) {
            return "a payload on op " + s.getShort(OFFSET_OP);
        }
        if (len != readable - HEADER) {
            return "len " + len + " in a chain of " + readable + " bytes";
        }
        return null;
    }

    private static void rx(SplitQueue queue, FuzzedDataProvider data) {
        Packet p = new Packet();
        p.type = data.consumeBoolean() ? VirtioVsock.TYPE_SEQPACKET
                : data.consumeBoolean() ? VirtioVsock.TYPE_STREAM : data.consumeInt(0, 0xFFFF);
        p.op = data.consumeBoolean() ? VirtioVsock.OP_RW : data.consumeInt(0, 0xFFFF);
        p.srcCid = data.consumeLong(0, 0xFFFF_FFFFL);
        p.dstCid = data.consumeLong(0, 0xFFFF_FFFFL);
        p.srcPort = data.consumeInt();
        p.dstPort = data.consumeInt();
        p.flags = data.consumeInt();
        p.bufAlloc = data.consumeInt();
        p.fwdCnt = data.consumeInt();
        p.len = data.consumeBoolean() ? data.consumeInt(0, 300) : data.consumeInt(0, VirtioVsock.MAX_PACKET_PAYLOAD_BYTES);
        p.payload = PAYLOADS;
        p.payloadOffset = data.consumeInt(0, PAYLOADS.length - VirtioVsock.MAX_PACKET_PAYLOAD_BYTES);
        int from = 0;
        int chains = 0;
        while (true) {
            Buffers chain = ++chains > MAX_FUZZED_RX_CHAINS || data.remainingBytes() == 0 ? linuxRxChain() : rxChain(data);
            if (chains > MAX_FUZZED_RX_CHAINS + VirtioVsock.MAX_PACKET_PAYLOAD_BYTES / (LINUX_RX_BUFFER_BYTES - HEADER) + 1) {
                throw new AssertionError(p + " not written after " + chains + " chains, " + from + " bytes so far");
            }
            if (!offerAndPop(queue, chain)) {
                throw new AssertionError("the ring walker refused a well-formed rx chain " + CHAIN + ": " + queue.lastDrop());
            }
            int used = CODEC.fill(new ArrayDeque<>(List.of(p)), from, CHAIN); // one packet: nothing to join
            int written = used < 0 ? -1 : used - HEADER;
            long room = chain.bytes(true) - HEADER;
            if (chain.count(false) != 0 || room < 0) {
                if (written != -1) {
                    throw new AssertionError("wrote " + written + " bytes of " + p + " into " + CHAIN);
                }
                assertAreas(PATTERN, "a refused rx chain was written: " + CHAIN);
                queue.addUsed(CHAIN.head(), 0);
                continue; // the device gives it back and takes the next chain
            }
            int piece = (int) Math.min(p.len - from, room);
            if (written != piece) {
                throw new AssertionError("wrote " + written + " payload bytes of " + p + " from " + from + " into "
                        + CHAIN + ", room for " + piece);
            }
            byte[] out = new byte[HEADER + piece];
            chain.copy(true, out, out.length, false);
            boolean last = from + piece == p.len;
            int flags = !last && p.type == VirtioVsock.TYPE_SEQPACKET ? p.flags & ~SEQ_END : p.flags;
            assertHeader(p, ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN), piece, flags, "piece at " + from);
            if (!Arrays.equals(out, HEADER, out.length, PAYLOADS, p.payloadOffset + from, p.payloadOffset + from + piece)) {
                throw new AssertionError("the piece of " + p + " at " + from + " is not the packet's bytes");
            }
            chain.restore(out.length);
            assertAreas(PATTERN, "an rx write went past its header and piece: " + CHAIN);
            queue.addUsed(CHAIN.head(), out.length);
            from += piece;
            if (last) {
                return; // every piece checked against the packet's bytes at its offset: they add up to it
            }
        }
    }

    private static Buffers rxChain(FuzzedDataProvider data) {
        Buffers chain = new Buffers(MAX_RX_BUFFERS + 1);
        int area = data.consumeInt(0, AREA_GPA.length - 1);
        long at = 0;
        int n = data.consumeInt(1, MAX_RX_BUFFERS);
        boolean readableFirst = data.consumeInt(0, 15) == 0;
        for (int i = readableFirst ? -1 : 0; i < n && at <= AREA_BYTES[area]; i++) {
            at = Math.min(at + data.consumeInt(0, 64), AREA_BYTES[area]);
            long upTo = data.consumeBoolean() ? Math.min(HEADER + 16, AREA_BYTES[area] - at) : AREA_BYTES[area] - at;
            int len = (int) data.consumeLong(0, upTo);
            chain.add(area, at, len, i >= 0);
            at += len;
        }
        return chain;
    }

    private static Buffers linuxRxChain() {
        Buffers chain = new Buffers(1);
        chain.add(0, 0, LINUX_RX_BUFFER_BYTES, true);
        return chain;
    }

    /** Writes the chain's descriptors from slot 0, offers it and pops it into {@link #CHAIN}. */
    private static boolean offerAndPop(SplitQueue queue, Buffers chain) {
        for (int i = 0; i < chain.count; i++) {
            int flags = (i + 1 < chain.count ? VirtioRing.DESC_F_NEXT : 0) | (chain.writable[i] ? VirtioRing.DESC_F_WRITE : 0);
            DRIVER.desc(i, chain.gpa(i), chain.len[i], flags, i + 1);
        }
        DRIVER.offer(0);
        return queue.pop(CHAIN);
    }

    private static void assertHeader(Packet p, ByteBuffer h, int len, int flags, String what) {
        if (h.getLong(OFFSET_SRC_CID) != p.srcCid || h.getLong(OFFSET_DST_CID) != p.dstCid
                || h.getInt(OFFSET_SRC_PORT) != p.srcPort || h.getInt(OFFSET_DST_PORT) != p.dstPort
                || h.getInt(OFFSET_LEN) != len || Short.toUnsignedInt(h.getShort(OFFSET_TYPE)) != p.type
                || Short.toUnsignedInt(h.getShort(OFFSET_OP)) != p.op || h.getInt(OFFSET_FLAGS) != flags
                || h.getInt(OFFSET_BUF_ALLOC) != p.bufAlloc || h.getInt(OFFSET_FWD_CNT) != p.fwdCnt) {
            throw new AssertionError(what + ": " + p + " and the header in guest memory differ (len " + len
                    + ", flags " + flags + " expected) in " + CHAIN);
        }
    }

    private static MemorySegment area(int i) {
        return DRIVER.at(AREA_GPA[i], AREA_BYTES[i]);
    }

    private static void assertAreas(byte[][] expected, String what) {
        for (int i = 0; i < AREA_GPA.length; i++) {
            if (area(i).mismatch(MemorySegment.ofArray(expected[i])) != -1) {
                throw new AssertionError(what);
            }
        }
    }

    /** One chain as this test laid it out: buffers by area and offset, in chain order. */
    private static final class Buffers {
        final int[] area;
        final long[] offset;
        final int[] len;
        final boolean[] writable;
        int count;

        Buffers(int capacity) {
            area = new int[capacity];
            offset = new long[capacity];
            len = new int[capacity];
            writable = new boolean[capacity];
        }

        void add(int area, long offset, int len, boolean writable) {
            this.area[count] = area;
            this.offset[count] = offset;
            this.len[count] = len;
            this.writable[count] = writable;
            count++;
        }

        long gpa(int i) {
            return AREA_GPA[area[i]] + offset[i];
        }

        int count(boolean ofWritable) {
            int n = 0;
            for (int i = 0; i < count; i++) {
                n += writable[i] == ofWritable ? 1 : 0;
            }
            return n;
        }

        long bytes(boolean ofWritable) {
            long n = 0;
            for (int i = 0; i < count; i++) {
                n += writable[i] == ofWritable ? len[i] : 0;
            }
            return n;
        }

        /**
         * The first {@code n} bytes of the stream the readable (or writable) buffers make in chain order,
         * copied to guest memory from {@code bytes} or from guest memory into it, through the driver's
         * mapping (not the device's).
         */
        void copy(boolean ofWritable, byte[] bytes, int n, boolean toGuest) {
            int done = 0;
            for (int i = 0; i < count && done < n; i++) {
                if (writable[i] != ofWritable) {
                    continue;
                }
                int k = Math.min(len[i], n - done);
                MemorySegment buffer = DRIVER.at(gpa(i), k);
                if (toGuest) {
                    MemorySegment.copy(bytes, done, buffer, ValueLayout.JAVA_BYTE, 0, k);
                } else {
                    MemorySegment.copy(buffer, ValueLayout.JAVA_BYTE, 0, bytes, done, k);
                }
                done += k;
            }
        }

        /** Puts the pattern back into the first {@code n} bytes of the writable buffers' stream. */
        void restore(int n) {
            int done = 0;
            for (int i = 0; i < count && done < n; i++) {
                if (writable[i]) {
                    int k = Math.min(len[i], n - done);
                    MemorySegment.copy(PATTERN[area[i]], (int) offset[i], DRIVER.at(gpa(i), k), ValueLayout.JAVA_BYTE, 0, k);
                    done += k;
                }
            }
        }
    }
}
