package io.vsock4j.transport.vhostuser;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The codec alone, without sockets: the header layout, payload round trips, and checks the sessions do not reach. */
final class VhostUserMessageTest {

    private static VhostUserMessage decode(VhostUserRequest r, int flags, byte[] payload, int... fds) throws Exception {
        byte[] bytes = VhostUserMessage.encode(r.code, flags, payload);
        VhostUserMessage.Header h = VhostUserMessage.decodeHeader(bytes);
        return VhostUserMessage.decode(h, payload, fds);
    }

    @Test
    void headerIsThreeLittleEndianWords() {
        byte[] m = VhostUserMessage.reply(VhostUserRequest.GET_QUEUE_NUM, VhostUserMessage.u64Payload(2));
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(0)).isEqualTo(17);
        assertThat(b.getInt(4)).isEqualTo(0x5);
        assertThat(b.getInt(8)).isEqualTo(8);
        assertThat(b.getLong(12)).isEqualTo(2);
    }

    @Test
    void payloadsRoundTrip() throws Exception {
        VringAddress a = new VringAddress(1, 0, 0x1000, 0x3000, 0x2000, 0);
        assertThat(decode(VhostUserRequest.SET_VRING_ADDR, 1, a.encode()).vringAddress()).isEqualTo(a);
        List<RegionDescription> table = List.of(new RegionDescription(0, 4096, 0x7f00_0000_0000L, 0),
                new RegionDescription(1L << 32, 8192, 0x7f00_1000_0000L, 4096));
        VhostUserMessage mem = decode(VhostUserRequest.SET_MEM_TABLE, 1 | VhostUserMessage.FLAG_NEED_REPLY,
                VhostUserMessage.memoryTablePayload(table), 10, 11);
        assertThat(mem.regions()).isEqualTo(table);
        assertThat(mem.needReply()).isTrue();
        assertThat(mem.fds()).containsExactly(10, 11);
        ConfigSpace c = decode(VhostUserRequest.GET_CONFIG, 1, new ConfigSpace(0, 8, 0, new byte[8]).encode()).config();
        assertThat(c.size()).isEqualTo(8);
        assertThat(decode(VhostUserRequest.SET_VRING_CALL, 1, VhostUserMessage.u64Payload(0x101)).u64()).isEqualTo(0x101);
    }

    @Test
    void configSizeMustMatchTheMessageSize() {
        byte[] p = new ConfigSpace(0, 8, 0, new byte[8]).encode();
        ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 12);
        assertThatThrownBy(() -> decode(VhostUserRequest.GET_CONFIG, 1, p))
                .isInstanceOf(VhostUserProtocolException.class).hasMessageContaining("config size 12 in a 20-byte payload");
    }

    @Test
    void reservedBitsInARingWordAreRefused() {
        assertThatThrownBy(() -> decode(VhostUserRequest.SET_VRING_ERR, 1, VhostUserMessage.u64Payload(0x200), 3))
                .isInstanceOf(VhostUserProtocolException.class).hasMessageContaining("reserved bits");
    }

    @Test
    void noFdFlagMeansNoDescriptor() {
        assertThatThrownBy(() -> decode(VhostUserRequest.SET_VRING_CALL, 1, VhostUserMessage.u64Payload(0x100), 3))
                .isInstanceOf(VhostUserProtocolException.class).hasMessageContaining("1 descriptors, the request takes 0");
    }

    @Test
    void regionCountMustMatchTheSize() {
        byte[] p = VhostUserMessage.memoryTablePayload(List.of(new RegionDescription(0, 4096, 0, 0)));
        ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 2);
        assertThatThrownBy(() -> decode(VhostUserRequest.SET_MEM_TABLE, 1, p, 3, 4))
                .isInstanceOf(VhostUserProtocolException.class).hasMessageContaining("2 regions in a 40-byte payload");
    }

    @Test
    void negativeSizeIsOverTheLimit() {
        byte[] h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(1).putInt(-1).array();
        assertThatThrownBy(() -> VhostUserMessage.decodeHeader(h)).hasMessageContaining("4294967295 over the 4096-byte limit");
    }
}
