package io.vsock4j.engine;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.HexFormat;

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

    @Property(tries = 2000)
    void decodeInvertsEncode(@ForAll long srcCid, @ForAll long dstCid, @ForAll int srcPort, @ForAll int dstPort,
                             @ForAll int len, @ForAll short type, @ForAll short op, @ForAll int flags,
                             @ForAll int bufAlloc, @ForAll int fwdCnt) {
        Packet p = new Packet();
        p.srcCid = srcCid;
        p.dstCid = dstCid;
        p.srcPort = srcPort;
        p.dstPort = dstPort;
        p.len = len;
        p.type = Short.toUnsignedInt(type);
        p.op = Short.toUnsignedInt(op);
        p.flags = flags;
        p.bufAlloc = bufAlloc;
        p.fwdCnt = fwdCnt;
        ByteBuffer buf = ByteBuffer.allocate(50).position(3);
        VirtioVsockHeader.encode(p, buf);
        assertThat(buf.position()).isEqualTo(3 + 44);
        Packet q = VirtioVsockHeader.decode(buf.flip().position(3));
        assertThat(q).usingRecursiveComparison().ignoringFields("payload").isEqualTo(p);
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
