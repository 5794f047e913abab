package io.vsock4j.transport.vhostuser;

import io.vsock4j.transport.vhostuser.RecordingDevice.Gone;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every kind of malformed message closes that frontend's connection and nothing else: the device hears
 * the frontend is gone, the next frontend is served, and no descriptor stays open.
 */
final class MalformedMessageTest {
    private static final int V = VhostUserMessage.VERSION;

    /** How a bad message is sent, on a frontend that has just started like QEMU. */
    interface Sender {
        void send(TestFrontend f) throws IOException;
    }

    /** One bad message each; {@code frontendCloses}: the frontend hangs up itself (a truncated message). */
    enum Bad {
        UNKNOWN_REQUEST(f -> f.sendRaw(header(99, V, 0))),
        PAYLOAD_ON_A_REQUEST_WITHOUT_ONE(f -> f.send(VhostUserRequest.GET_FEATURES, new byte[8])),
        SHORT_VRING_STATE(f -> f.send(VhostUserRequest.SET_VRING_NUM, new byte[4])),
        SIZE_OVER_THE_ABSOLUTE_LIMIT(f -> f.sendRaw(header(VhostUserRequest.SET_LOG_BASE.code, V, 5000))),
        VERSION_2(f -> f.send(VhostUserRequest.GET_FEATURES, 0x2, new byte[0])),
        REPLY_FLAG_ON_A_REQUEST(f -> f.send(VhostUserRequest.GET_FEATURES, V | VhostUserMessage.FLAG_REPLY, new byte[0])),
        NINE_REGIONS(f -> sendMemTable(f, 9, 8, 8)),
        REGIONS_WITHOUT_THEIR_DESCRIPTORS(f -> sendMemTable(f, 2, 2, 1)),
        KICK_WITHOUT_ITS_DESCRIPTOR(f -> f.send(VhostUserRequest.SET_VRING_KICK, TestFrontend.u64(0))),
        DESCRIPTOR_ON_A_REQUEST_WITHOUT_ONE(f -> {
            try (EventFd e = EventFd.create()) {
                f.send(VhostUserRequest.SET_OWNER, new byte[0], e.fd());
            }
        }),
        RING_INDEX_BEYOND_THE_DEVICE(f -> f.send(VhostUserRequest.SET_VRING_NUM, new VringState(RecordingDevice.QUEUES, 64).encode())),
        FEATURES_NOT_OFFERED(f -> f.send(VhostUserRequest.SET_FEATURES, TestFrontend.u64(1L << 29))),
        REQUEST_NEEDING_AN_UNOFFERED_FEATURE(f -> f.send(VhostUserRequest.GET_INFLIGHT_FD, new byte[24])),
        TRUNCATED_HEADER_THEN_CLOSE(true, f -> f.sendRaw(new byte[] {1, 0, 0, 0, 1, 0})),
        TRUNCATED_PAYLOAD_THEN_CLOSE(true, f -> {
            byte[] m = VhostUserMessage.encode(VhostUserRequest.SET_VRING_ADDR.code, V, new byte[VringAddress.BYTES]);
            f.sendRaw(Arrays.copyOf(m, m.length - 10));
        });

        final boolean frontendCloses;
        final Sender sender;

        Bad(Sender sender) {
            this(false, sender);
        }

        Bad(boolean frontendCloses, Sender sender) {
            this.frontendCloses = frontendCloses;
            this.sender = sender;
        }

        static byte[] header(int code, int flags, int size) {
            return ByteBuffer.allocate(VhostUserMessage.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(code).putInt(flags).putInt(size).array();
        }

        /**
         * A SET_MEM_TABLE whose header claims {@code claimed} regions, followed by {@code written} (zeroed)
         * regions and {@code descriptors} copies of one eventfd.
         */
        static void sendMemTable(TestFrontend f, int claimed, int written, int descriptors) throws IOException {
            byte[] table = new byte[VhostUserMessage.MEMORY_TABLE_HEADER_BYTES + written * VhostUserMessage.REGION_BYTES];
            ByteBuffer.wrap(table).order(ByteOrder.LITTLE_ENDIAN).putInt(claimed);
            try (EventFd e = EventFd.create()) {
                int[] fds = new int[descriptors];
                Arrays.fill(fds, e.fd());
                f.send(VhostUserRequest.SET_MEM_TABLE, table, fds);
            }
        }
    }

    private final RecordingDevice device = new RecordingDevice();
    @RegisterExtension
    final BackendUnderTest backend = new BackendUnderTest(device);

    @ParameterizedTest
    @EnumSource(Bad.class)
    void closesOnlyThatConnection(Bad bad) throws Exception {
        sendAndSeeClosed(bad);
        try (TestFrontend next = TestFrontend.connect(backend.socketPath())) {
            assertThat(next.startLikeQemu().queues()).isEqualTo(RecordingDevice.QUEUES);
        }
        device.next(Gone.class);
    }

    private void sendAndSeeClosed(Bad bad) throws Exception {
        try (TestFrontend qemu = TestFrontend.connect(backend.socketPath())) {
            qemu.startLikeQemu();
            bad.sender.send(qemu);
            if (!bad.frontendCloses) {
                assertThat(qemu.closedByBackend()).as("backend closed the connection").isTrue();
            }
        }
        device.next(Gone.class);
    }

    @Test
    void noCaseLeavesADescriptorOpen() throws Exception {
        sendAndSeeClosed(Bad.NINE_REGIONS); // loads what the cases need, so the count is stable
        backend.close();
        long before = BackendUnderTest.openFds();
        backend.restart();
        for (Bad bad : Bad.values()) {
            sendAndSeeClosed(bad);
        }
        backend.close();
        assertThat(BackendUnderTest.openFds()).isEqualTo(before);
    }
}
