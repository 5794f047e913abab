package io.vsock4j.capture;

import io.vsock4j.machines.Machines;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.wire.Packet;
import io.vsock4j.engine.TestWire;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.transport.loopback.LoopbackTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The capture tap and its file format, held against what Linux's vsockmon and tcpdump write. */
class CaptureTest {
    @TempDir
    Path dir;

    @Test
    void recordsAreByteForByteWhatTheKernelWrites() throws Exception {
        // Same ports, sizes and payload pattern as the kernel's scenarios: only the timestamps may differ.
        for (String name : List.of("refused", "seqpacket")) {
            Path mine = dir.resolve(name + ".pcap");
            GoldenScenarios.run(name, mine);
            Path kernel = Path.of(getClass().getResource("/golden/" + name + ".pcap").toURI());
            List<byte[]> ours = rawRecords(Files.readAllBytes(mine));
            List<byte[]> theirs = rawRecords(Files.readAllBytes(kernel));

            assertThat(Arrays.copyOf(Files.readAllBytes(mine), 24)).as("file header").isEqualTo(Arrays.copyOf(Files.readAllBytes(kernel), 24));
            // The kernel's last record is the second RST that only Linux sends (TraceComparison.MAY_DIFFER).
            assertThat(ours).hasSize(name.equals("refused") ? theirs.size() : theirs.size() - 1);
            for (int i = 0; i < ours.size(); i++) {
                assertThat(ours.get(i)).as(name + " record " + (i + 1) + " without its timestamp").isEqualTo(theirs.get(i));
            }
        }
    }

    @Test
    void theLoopbackIsRecordedOnceOtherTransportsInBothDirections() throws Exception {
        TestWire wire = new TestWire(3);
        Path file = dir.resolve("both.pcap");
        try (Machine m = Machine.builder().transport(wire).transport(new LoopbackTransport()).build()) {
            Capture capture = Capture.start(m, file, Capture.DEFAULT_SNAPLEN_BYTES);
            CompletableFuture<VsockSocket> connected = CompletableFuture.supplyAsync(() -> {
                try {
                    return VsockSocket.connect(m, VsockAddress.of(VsockAddress.CID_HOST, 80));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            Packet request = wire.sent.poll(10, TimeUnit.SECONDS);
            assertThat(request).isNotNull();
            Packet response = Packet.control(VirtioVsock.TYPE_STREAM, VirtioVsock.OP_RESPONSE, 0,
                    VsockAddress.of(VsockAddress.CID_HOST, 80), request.source());
            response.bufAlloc = 4096;
            wire.deliver(response);
            try (VsockSocket s = connected.get(10, TimeUnit.SECONDS)) {
                assertThatThrownBy(() -> VsockSocket.connect(m, VsockAddress.local(9))).hasMessageStartingWith("ECONNRESET");
                capture.close();
            }
        }
        List<String> records = PcapReader.read(file).stream()
                .map(r -> VirtioVsock.opName(r.header().op) + " " + r.header().srcCid + ">" + r.header().dstCid).toList();
        assertThat(records).containsExactly("REQUEST 3>2", "RESPONSE 2>3", "REQUEST 1>1", "RST 1>1");
    }

    @Test
    void theSnapshotLengthCutsPayloadsButNeverHeaders() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TestWire wire = new TestWire(3);
        try (Capture c = Capture.to(out, 100)) {
            c.onPacket(true, wire, rw(1000));
            c.onPacket(false, wire, rw(10));
            assertThat(c.records()).isEqualTo(2);
        }
        ByteBuffer file = ByteBuffer.wrap(out.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(file.getInt(16)).as("snaplen").isEqualTo(100);
        assertThat(file.getInt(24 + 8)).as("incl_len").isEqualTo(100);
        assertThat(file.getInt(24 + 12)).as("orig_len").isEqualTo(76 + 1000);

        List<CapturedPacket> read = PcapReader.read(ByteBuffer.wrap(out.toByteArray()));
        assertThat(read.get(0).header().len).isEqualTo(1000);
        assertThat(read.get(0).capturedPayload()).isEqualTo(Arrays.copyOf(GoldenScenarios.pattern(1000), 24));
        assertThat(read.get(0).truncated()).isTrue();
        assertThat(read.get(1).capturedPayload()).isEqualTo(GoldenScenarios.pattern(10));
        assertThat(read.get(1).truncated()).isFalse();
        assertThat(read).allSatisfy(r -> {
            assertThat(r.opClass()).isEqualTo(Vsockmon.OP_PAYLOAD);
            assertThat(r.transport()).isEqualTo(Vsockmon.TRANSPORT_VIRTIO);
        });

        assertThatThrownBy(() -> Capture.to(new ByteArrayOutputStream(), 75))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("below 76 bytes");
    }

    @Test
    void aWriteErrorStopsTheCaptureAndCloseReportsIt() throws Exception {
        OutputStream failing = new OutputStream() {
            int written;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (written + len > PcapWriter.FILE_HEADER_BYTES) {
                    throw new IOException("ENOSPC: No space left on device");
                }
                written += len;
            }
        };
        Capture c = Capture.to(failing, 1000);
        TestWire wire = new TestWire(3);
        c.onPacket(true, wire, rw(10)); // must not throw into the engine
        c.onPacket(true, wire, rw(10));
        assertThat(c.records()).isZero();
        assertThatThrownBy(c::close).isInstanceOf(IOException.class)
                .hasMessage("vsock capture stopped after 0 records: ENOSPC: No space left on device");
    }

    @Test
    void closingDetachesFromTheMachineAndLeavesAWholeFile() throws Exception {
        Path file = dir.resolve("detach.pcap");
        try (Machine m = Machines.loopback()) {
            Capture c = Capture.start(m, file, Capture.DEFAULT_SNAPLEN_BYTES);
            assertThatThrownBy(() -> VsockSocket.connect(m, VsockAddress.local(9))).hasMessageStartingWith("ECONNRESET");
            awaitRecords(c, 2);
            c.close();
            c.close();
            assertThatThrownBy(() -> VsockSocket.connect(m, VsockAddress.local(9))).hasMessageStartingWith("ECONNRESET");
        }
        assertThat(PcapReader.read(file)).extracting(r -> VirtioVsock.opName(r.header().op)).containsExactly("REQUEST", "RST");
    }

    @Test
    void oneCaptureHoldsSeveralMachines() throws Exception {
        Path file = dir.resolve("two.pcap");
        try (Machine a = Machines.loopback(); Machine b = Machines.loopback()) {
            Capture c = Capture.open(file, Capture.DEFAULT_SNAPLEN_BYTES).attach(a).attach(b);
            assertThatThrownBy(() -> VsockSocket.connect(a, VsockAddress.local(7))).hasMessageStartingWith("ECONNRESET");
            assertThatThrownBy(() -> VsockSocket.connect(b, VsockAddress.local(8))).hasMessageStartingWith("ECONNRESET");
            awaitRecords(c, 4);
            c.close();
            assertThatThrownBy(() -> VsockSocket.connect(b, VsockAddress.local(8))).hasMessageStartingWith("ECONNRESET");
        }
        assertThat(PcapReader.read(file)).extracting(r -> VirtioVsock.opName(r.header().op) + " to " + r.header().dstPort)
                .containsExactly("REQUEST to 7", "RST to " + Integer.toUnsignedString(PcapReader.read(file).get(0).header().srcPort),
                        "REQUEST to 8", "RST to " + Integer.toUnsignedString(PcapReader.read(file).get(2).header().srcPort));
    }

    @Test
    void theReaderRefusesWhatIsNotAVsockCapture() {
        byte[] ethernet = new byte[24];
        ByteBuffer.wrap(ethernet).order(ByteOrder.LITTLE_ENDIAN).putInt(PcapWriter.MAGIC_MICROS).putShort((short) 2)
                .putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(1);
        assertThatThrownBy(() -> PcapReader.read(ByteBuffer.wrap(ethernet))).hasMessage("link type 1, not LINKTYPE_VSOCK (271)");
        assertThatThrownBy(() -> PcapReader.read(ByteBuffer.wrap(new byte[30]))).hasMessageStartingWith("not a pcap file");
    }

    private static Packet rw(int len) {
        Packet p = Packet.control(VirtioVsock.TYPE_STREAM, VirtioVsock.OP_RW, 0, VsockAddress.of(3, 1024), VsockAddress.of(2, 80));
        p.payload = GoldenScenarios.pattern(len);
        p.len = len;
        return p;
    }

    private static void awaitRecords(Capture c, long n) throws InterruptedException {
        for (int i = 0; i < 500 && c.records() < n; i++) {
            Thread.sleep(10);
        }
        assertThat(c.records()).isEqualTo(n);
    }

    /** Each record of a pcap file without its 8-byte timestamp: lengths, headers, payload. */
    private static List<byte[]> rawRecords(byte[] pcap) {
        ByteBuffer b = ByteBuffer.wrap(pcap).order(ByteOrder.LITTLE_ENDIAN);
        List<byte[]> out = new ArrayList<>();
        int at = PcapWriter.FILE_HEADER_BYTES;
        while (at < pcap.length) {
            int kept = b.getInt(at + 8);
            out.add(Arrays.copyOfRange(pcap, at + 8, at + 16 + kept));
            at += 16 + kept;
        }
        return out;
    }
}
