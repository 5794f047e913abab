package io.vsock4j.wire;

import io.vsock4j.testing.Trials;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class VirtioVsockHeaderTest {
    @Test
    void encodesTheKernelsLayoutLittleEndian() {
        Packet p = new Packet();
        p.srcCid = 3;
        p.dstCid = 2;
        p.srcPort = 0x0000_0400;
        p.dstPort = 0x1234_5678;
        p.len = 5;
        p.type = VirtioVsock.TYPE_STREAM;
        p.op = VirtioVsock.OP_RW;
        p.flags = 0;
        p.bufAlloc = 0x0004_0000;
        p.fwdCnt = 0xFFFF_FFFF;
        String hex = HexFormat.of().formatHex(VirtioVsockHeader.encode(p));
        assertThat(hex).isEqualTo(
                "0300000000000000" // src_cid le64
                        + "0200000000000000" // dst_cid le64
                        + "00040000" // src_port
                        + "78563412" // dst_port
                        + "05000000" // len
                        + "0100" // type STREAM
                        + "0500" // op RW
                        + "00000000" // flags
                        + "00000400" // buf_alloc 256 KiB
                        + "ffffffff"); // fwd_cnt
        assertThat(hex).hasSize(2 * VirtioVsock.HEADER_SIZE_BYTES);
    }

    @Test
    void decodeInvertsEncode() {
        Trials.forAll("decodeInvertsEncode", 2000, r -> {
            Packet p = new Packet();
            p.srcCid = Trials.anyLong(r);
            p.dstCid = Trials.anyLong(r);
            p.srcPort = Trials.anyInt(r);
            p.dstPort = Trials.anyInt(r);
            p.len = Trials.anyInt(r);
            p.type = Short.toUnsignedInt((short) Trials.anyInt(r));
            p.op = Short.toUnsignedInt((short) Trials.anyInt(r));
            p.flags = Trials.anyInt(r);
            p.bufAlloc = Trials.anyInt(r);
            p.fwdCnt = Trials.anyInt(r);
            ByteBuffer buf = ByteBuffer.allocate(50).position(3);
            VirtioVsockHeader.encode(p, buf);
            assertThat(buf.position()).isEqualTo(3 + 44);
            Packet q = VirtioVsockHeader.decode(buf.flip().position(3));
            assertThat(fields(q)).as(() -> "decoded " + q).isEqualTo(fields(p));
        });
    }

    /** Every field of a packet but its payload, in declaration order (AssertJ's recursive comparison costs 5 ms a try). */
    private static List<Long> fields(Packet p) {
        return List.of(p.srcCid, p.dstCid, (long) p.srcPort, (long) p.dstPort, (long) p.len, (long) p.type,
                (long) p.op, (long) p.flags, (long) p.bufAlloc, (long) p.fwdCnt, (long) p.payloadOffset);
    }

    @Test
    void theRoundTripComparesEveryFieldOfAPacket() {
        List<String> instanceFields = Arrays.stream(Packet.class.getDeclaredFields())
                .filter(f -> !Modifier.isStatic(f.getModifiers())).map(Field::getName).toList();
        assertThat(instanceFields).as("a new field belongs in fields() above").containsExactly("srcCid", "dstCid",
                "srcPort", "dstPort", "len", "type", "op", "flags", "bufAlloc", "fwdCnt", "payload", "payloadOffset");
    }

    @Test
    void validateRejectsWhatTheEngineCannotTrust() {
        Packet p = new Packet();
        p.op = VirtioVsock.OP_RW;
        p.type = VirtioVsock.TYPE_STREAM;
        assertThat(VirtioVsockHeader.validate(p)).isNull();
        p.srcCid = 1L << 32;
        assertThat(VirtioVsockHeader.validate(p)).contains("CID");
        p.srcCid = 3;
        p.len = VirtioVsock.MAX_PACKET_PAYLOAD_BYTES + 1;
        assertThat(VirtioVsockHeader.validate(p)).contains("len");
        p.len = -1; // u32 4 GiB, not a negative length
        assertThat(VirtioVsockHeader.validate(p)).contains("4294967295");
        p.len = 1;
        p.op = VirtioVsock.OP_SHUTDOWN;
        assertThat(VirtioVsockHeader.validate(p)).contains("SHUTDOWN with a payload");
    }
}
