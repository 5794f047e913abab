package io.vsock4j.transport.vhostuser;

import io.vsock4j.transport.vhostuser.RecordingDevice.Gone;
import io.vsock4j.transport.vhostuser.RecordingDevice.MemoryChanged;
import io.vsock4j.transport.vhostuser.RecordingDevice.Started;
import io.vsock4j.transport.vhostuser.RecordingDevice.Stopped;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The backend against {@link TestFrontend} playing QEMU 7.2 over a real Unix socket, with a
 * {@link RecordingDevice}: negotiation, config, guest memory shared with the frontend's memfd, ring
 * start and stop, REPLY_ACK, reconnect, and descriptors all closed when a session ends. Malformed
 * messages are in {@link MalformedMessageTest}.
 */
final class VhostUserBackendTest {
    private static final long DRIVER_FEATURES = RecordingDevice.VIRTIO_F_VERSION_1 | VhostUserFeatures.F_PROTOCOL_FEATURES;

    private final RecordingDevice device = new RecordingDevice();
    @RegisterExtension
    final BackendUnderTest backend = new BackendUnderTest(device);

    @Test
    void qemuStartupSeesFeaturesQueuesAndTheGuestCid() throws Exception {
        try (TestFrontend qemu = TestFrontend.connect(backend.socketPath())) {
            TestFrontend.Startup s = qemu.startLikeQemu();
            assertThat(s.features()).isEqualTo(RecordingDevice.VIRTIO_F_VERSION_1 | (1L << 30));
            assertThat(s.protocolFeatures()).as("MQ | REPLY_ACK | CONFIG").isEqualTo(0x209L);
            assertThat(s.queues()).isEqualTo(RecordingDevice.QUEUES);
            ConfigSpace config = ConfigSpace.decode(ByteBuffer.wrap(s.config()).order(ByteOrder.LITTLE_ENDIAN));
            assertThat(config.offset()).isZero();
            assertThat(config.size()).isEqualTo(8);
            assertThat(ByteBuffer.wrap(config.bytes()).order(ByteOrder.LITTLE_ENDIAN).getLong()).isEqualTo(RecordingDevice.GUEST_CID);
            qemu.sync();
            device.assertQuiet();
        }
        device.next(Gone.class);
    }

    @Test
    void memoryTableIsMappedSharedWithTheFrontendsMemfd() throws Exception {
        try (TestFrontend qemu = TestFrontend.connect(backend.socketPath())) {
            qemu.startLikeQemu();
            qemu.send(VhostUserRequest.SET_FEATURES, TestFrontend.u64(DRIVER_FEATURES));
            qemu.sendMemTable();
            List<MappedRegion> regions = device.next(MemoryChanged.class).regions();
            assertThat(regions).extracting(MappedRegion::guestPhysAddr).containsExactly(0L, GuestRam.HIGH_GUEST_PHYS_ADDR);
            assertThat(regions).extracting(MappedRegion::size).containsOnly(GuestRam.REGION_BYTES);
            assertThat(regions.get(1).userAddr()).isEqualTo(qemu.ram.userAddr(GuestRam.REGION_BYTES));
            assertThat(regions.get(0).mapping().byteSize()).isEqualTo(GuestRam.REGION_BYTES);

            // The frontend writes, the backend reads, in both regions (the second at mmap_offset 1 MiB).
            qemu.ram.mapping.set(ValueLayout.JAVA_LONG, 64, 0x1122334455667788L);
            qemu.ram.mapping.set(ValueLayout.JAVA_LONG, GuestRam.REGION_BYTES + 8, 0x0A0B0C0DL);
            assertThat(regions.get(0).mapping().get(ValueLayout.JAVA_LONG, 64)).isEqualTo(0x1122334455667788L);
            assertThat(regions.get(1).mapping().get(ValueLayout.JAVA_LONG, 8)).isEqualTo(0x0A0B0C0DL);
            // And the other way.
            regions.get(1).mapping().set(ValueLayout.JAVA_INT, 100, 0xCAFE);
            assertThat(qemu.ram.mapping.get(ValueLayout.JAVA_INT, GuestRam.REGION_BYTES + 100)).isEqualTo(0xCAFE);

            // A second table replaces the first, whose mappings are then closed.
            qemu.sendMemTable();
            List<MappedRegion> next = device.next(MemoryChanged.class).regions();
            qemu.sync();
            assertThat(next.get(0).mapping().get(ValueLayout.JAVA_LONG, 64)).isEqualTo(0x1122334455667788L);
            MemorySegment old = regions.get(0).mapping();
            assertThatThrownBy(() -> old.get(ValueLayout.JAVA_LONG, 64)).isInstanceOf(IllegalStateException.class);
        }
        device.next(Gone.class);
    }

    @Test
    void ringsStartWhenEnabledAndStopAtGetVringBase() throws Exception {
        try (TestFrontend qemu = TestFrontend.connect(backend.socketPath())) {
            qemu.startLikeQemu();
            qemu.driverStart(DRIVER_FEATURES, new int[] {5, 9});
            device.next(MemoryChanged.class);
            qemu.sync();
            device.assertQuiet(); // PROTOCOL_FEATURES negotiated: kicked rings wait for SET_VRING_ENABLE

            qemu.enable(0, true);
            Started rx = device.next(Started.class);
            assertThat(rx.index()).isZero();
            assertThat(rx.ackedFeatures()).isEqualTo(DRIVER_FEATURES);
            VringAddress a = qemu.ringAddress(0);
            assertThat(rx.setup()).isEqualTo(new VringSetup(TestFrontend.RING_SIZE, a.descUserAddr(), a.availUserAddr(),
                    a.usedUserAddr(), 5, 0));
            qemu.enable(1, true);
            Started tx = device.next(Started.class);
            assertThat(tx.index()).isEqualTo(1);
            assertThat(tx.setup().nextAvail()).isEqualTo(9);

            // The eventfds are the frontend's: its kick wakes the device, the device's call wakes it.
            qemu.kicks[0].signal();
            assertThat(rx.kick().drain()).isEqualTo(1);
            rx.call().signal();
            assertThat(qemu.calls[0].drain()).isEqualTo(1);

            // QEMU's stop: disable, then GET_VRING_BASE, which replies where the device stopped.
            device.nextAvailOnStop.set(0, 17);
            qemu.enable(0, false);
            assertThat(device.next(Stopped.class).index()).isZero();
            assertThat(qemu.getVringBase(0)).isEqualTo(new VringState(0, 17));
            device.nextAvailOnStop.set(1, 300);
            assertThat(qemu.getVringBase(1)).isEqualTo(new VringState(1, 300));
            assertThat(device.next(Stopped.class).index()).isEqualTo(1);
            assertThat(rx.kick().fd()).as("kick closed at GET_VRING_BASE").isEqualTo(-1);

            // Restart as QEMU does: base, kick, call, enable; the ring continues from the base it is given.
            qemu.send(VhostUserRequest.SET_VRING_BASE, new VringState(0, 17).encode());
            qemu.sendRingFd(VhostUserRequest.SET_VRING_KICK, 0);
            qemu.sendRingFd(VhostUserRequest.SET_VRING_CALL, 0);
            qemu.enable(0, true);
            assertThat(device.next(Started.class).setup().nextAvail()).isEqualTo(17);
        }
        assertThat(device.next(Stopped.class).index()).isZero();
        device.next(Gone.class);
    }

    @Test
    void changingARunningRingRestartsItWithTheNewSetting() throws Exception {
        try (TestFrontend qemu = TestFrontend.connect(backend.socketPath())) {
            qemu.startLikeQemu();
            qemu.driverStart(DRIVER_FEATURES, new int[] {0, 0});
            device.next(MemoryChanged.class);
            qemu.enable(0, true);
            Started first = device.next(Started.class);
            device.nextAvailOnStop.set(0, 4);

            EventFd newCall = qemu.sendRingFd(VhostUserRequest.SET_VRING_CALL, 0);
            device.next(Stopped.class);
            Started second = device.next(Started.class);
            assertThat(second.setup().nextAvail()).isEqualTo(4);
            assertThat(first.call().fd()).as("old call closed").isEqualTo(-1);
            second.call().signal();
            assertThat(newCall.drain()).isEqualTo(1);

            qemu.sendMemTable();
            device.next(Stopped.class);
            device.next(MemoryChanged.class);
            assertThat(device.next(Started.class).index()).isZero();
        }
        device.next(Stopped.class);
        device.next(Gone.class);
    }

    @Test
    void withoutProtocolFeaturesAKickedRingStartsAtOnce() throws Exception {
        try (TestFrontend qemu = TestFrontend.connect(backend.socketPath())) {
            qemu.driverStart(RecordingDevice.VIRTIO_F_VERSION_1, new int[] {0, 0});
            device.next(MemoryChanged.class);
            for (int ring = 0; ring < RecordingDevice.QUEUES; ring++) {
                // Started at SET_VRING_KICK, then restarted when SET_VRING_CALL brings the call eventfd.
                assertThat(device.next(Started.class)).extracting(Started::index, Started::call).containsExactly(ring, null);
                assertThat(device.next(Stopped.class).index()).isEqualTo(ring);
                assertThat(device.next(Started.class).call()).isNotNull();
            }
            qemu.sync();
            device.assertQuiet();
        }
        device.next(Stopped.class);
        device.next(Stopped.class);
        device.next(Gone.class);
    }

    @Test
    void replyAckAnswersOnlyWhenNegotiatedAndSaysWhetherTheRequestWorked() throws Exception {
        try (TestFrontend qemu = TestFrontend.connect(backend.socketPath())) {
            // Not negotiated yet: need_reply is ignored, so the next reply is GET_FEATURES' own.
            qemu.send(VhostUserRequest.SET_OWNER, VhostUserMessage.VERSION | VhostUserMessage.FLAG_NEED_REPLY, new byte[0]);
            assertThat(qemu.getU64(VhostUserRequest.GET_FEATURES)).isEqualTo(RecordingDevice.VIRTIO_F_VERSION_1 | (1L << 30));

            qemu.send(VhostUserRequest.SET_PROTOCOL_FEATURES, TestFrontend.u64(VhostUserFeatures.OFFERED_PROTOCOL));
            assertThat(qemu.sendNeedingAck(VhostUserRequest.SET_OWNER, new byte[0])).isZero();
            assertThat(qemu.sendNeedingAck(VhostUserRequest.SET_VRING_NUM, new VringState(0, 100).encode()))
                    .as("not a power of two").isNotZero();
            assertThat(qemu.sendNeedingAck(VhostUserRequest.SET_VRING_NUM, new VringState(0, 64).encode())).isZero();
            assertThat(qemu.sendNeedingAck(VhostUserRequest.SET_VRING_NUM, new VringState(0, 512).encode()))
                    .as("over the device's maximum").isNotZero();
            assertThat(qemu.sendNeedingAck(VhostUserRequest.SET_VRING_ENABLE, new VringState(0, 1).encode()))
                    .as("PROTOCOL_FEATURES not in SET_FEATURES").isNotZero();
            assertThat(qemu.sendNeedingAck(VhostUserRequest.SET_CONFIG, new ConfigSpace(0, 8, 0, new byte[8]).encode()))
                    .as("read-only config").isNotZero();
            assertThat(qemu.sendNeedingAck(VhostUserRequest.SET_CONFIG, new ConfigSpace(0, 8, 0, device.config()).encode()))
                    .as("writing what is there").isZero();

            // A request with its own reply gets only that reply.
            qemu.send(VhostUserRequest.GET_QUEUE_NUM, VhostUserMessage.VERSION | VhostUserMessage.FLAG_NEED_REPLY, new byte[0]);
            assertThat(TestFrontend.u64(qemu.readReply(VhostUserRequest.GET_QUEUE_NUM))).isEqualTo(RecordingDevice.QUEUES);
            assertThat(qemu.getU64(VhostUserRequest.GET_PROTOCOL_FEATURES)).isEqualTo(VhostUserFeatures.OFFERED_PROTOCOL);
        }
        device.next(Gone.class);
    }

    @Test
    void getConfigFailsWithAnEmptyPayloadWhenConfigIsNotNegotiatedOrOutOfRange() throws Exception {
        try (TestFrontend qemu = TestFrontend.connect(backend.socketPath())) {
            assertThat(qemu.call(VhostUserRequest.GET_CONFIG, new ConfigSpace(0, 8, 0, new byte[8]).encode())).isEmpty();
            qemu.send(VhostUserRequest.SET_PROTOCOL_FEATURES, TestFrontend.u64(VhostUserFeatures.OFFERED_PROTOCOL));
            assertThat(qemu.call(VhostUserRequest.GET_CONFIG, new ConfigSpace(4, 8, 0, new byte[8]).encode())).isEmpty();
            byte[] high = qemu.call(VhostUserRequest.GET_CONFIG, new ConfigSpace(4, 4, 0, new byte[4]).encode());
            assertThat(ConfigSpace.decode(ByteBuffer.wrap(high).order(ByteOrder.LITTLE_ENDIAN)).bytes()).containsOnly(0);
        }
        device.next(Gone.class);
    }

    @Test
    void resetOwnerStopsRingsAndTellsTheDevice() throws Exception {
        try (TestFrontend qemu = TestFrontend.connect(backend.socketPath())) {
            qemu.startLikeQemu();
            qemu.driverStart(DRIVER_FEATURES, new int[] {0, 0});
            device.next(MemoryChanged.class);
            qemu.enable(1, true);
            device.next(Started.class);
            qemu.send(VhostUserRequest.RESET_OWNER, new byte[0]);
            assertThat(device.next(Stopped.class).index()).isEqualTo(1);
            device.next(Gone.class);
            qemu.sync();
        }
        device.next(Gone.class);
    }

    @Test
    void aFrontendCanReconnectAfterClosing() throws Exception {
        for (int round = 0; round < 3; round++) {
            try (TestFrontend qemu = TestFrontend.connect(backend.socketPath())) {
                qemu.startLikeQemu();
                qemu.driverStart(DRIVER_FEATURES, new int[] {round, round});
                device.next(MemoryChanged.class);
                qemu.enable(0, true);
                assertThat(device.next(Started.class).setup().nextAvail()).isEqualTo(round);
            }
            device.next(Stopped.class);
            device.next(Gone.class);
        }
    }

    @Test
    void aSessionLeavesNoDescriptorOpen() throws Exception {
        fullSession(backend.socketPath()); // loads every class the session needs, so the count is stable
        backend.close();
        long before = BackendUnderTest.openFds();
        backend.restart();
        fullSession(backend.socketPath());
        // A frontend still connected when the backend closes is released too.
        TestFrontend last = TestFrontend.connect(backend.socketPath());
        last.startLikeQemu();
        last.driverStart(DRIVER_FEATURES, new int[] {0, 0});
        last.enable(0, true);
        last.sync();
        backend.close();
        last.close();
        assertThat(BackendUnderTest.openFds()).as("descriptors open in this process").isEqualTo(before);
        assertThat(Files.exists(backend.socketPath())).as("socket file removed").isFalse();
    }

    private void fullSession(Path socket) throws Exception {
        try (TestFrontend qemu = TestFrontend.connect(socket)) {
            qemu.startLikeQemu();
            qemu.driverStart(DRIVER_FEATURES, new int[] {0, 0});
            qemu.enable(0, true);
            qemu.enable(1, true);
            qemu.getVringBase(0);
            qemu.sendMemTable();
            qemu.sync();
        }
        device.next(MemoryChanged.class);
        device.next(Started.class);
        device.next(Started.class);
        device.next(Stopped.class);
        device.next(Stopped.class);
        device.next(MemoryChanged.class);
        device.next(Started.class);
        device.next(Stopped.class);
        device.next(Gone.class);
    }

    @Test
    void aStaleSocketFileIsReplacedAndALiveOneOrAnOrdinaryFileIsRefused(@TempDir Path dir) throws Exception {
        Path live = backend.socketPath();
        assertThatThrownBy(() -> VhostUserBackend.start(live, new RecordingDevice()))
                .hasMessageStartingWith("EADDRINUSE");

        Path file = dir.resolve("plain");
        Files.writeString(file, "not a socket");
        assertThatThrownBy(() -> VhostUserBackend.start(file, new RecordingDevice()))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(file)).isEqualTo("not a socket");

        // A socket file nobody accepts on, as a crashed backend leaves it.
        Path stale = dir.resolve("stale.sock");
        int fd = UnixNative.unixStreamSocket(0);
        assertThat(UnixNative.bind(fd, stale.toString())).isZero();
        UnixNative.close(fd);
        try (VhostUserBackend second = VhostUserBackend.start(stale, new RecordingDevice());
             TestFrontend qemu = TestFrontend.connect(second.socketPath())) {
            assertThat(qemu.getU64(VhostUserRequest.GET_QUEUE_NUM)).isEqualTo(RecordingDevice.QUEUES);
        }
    }
}
