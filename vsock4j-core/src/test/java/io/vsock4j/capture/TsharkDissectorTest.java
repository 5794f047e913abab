package io.vsock4j.capture;

import io.vsock4j.wire.Packet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Wireshark reads what vsock4j writes: tshark dissects every capture of the golden scenarios, cut at the
 * golden snapshot length and whole, without a malformed packet, and its vsock dissector shows for each
 * record the very fields the engine put on the wire (compared with the packets as the engine delivered
 * them, not with our own reader).
 *
 * <p>Needs tshark on the PATH: capture/setup.sh installs it, and ./run-tests calls that script. Without
 * tshark this test fails; it does not skip.
 */
class TsharkDissectorTest {
    private static final String[] FIELDS = {
        "frame.len", "frame.cap_len",
        "vsock.src_cid", "vsock.dst_cid", "vsock.src_port", "vsock.dst_port", "vsock.op", "vsock.trans", "vsock.trans_len",
        "vsock.virtio.src_cid", "vsock.virtio.dst_cid", "vsock.virtio.src_prot", "vsock.virtio.dst_prot",
        "vsock.virtio.len", "vsock.virtio.type", "vsock.virtio.op", "vsock.virtio.flags",
        "vsock.virtio.buf_alloc", "vsock.virtio.fwd_cnt", "vsock.payload", "_ws.malformed", "_ws.short",
    };

    @TempDir
    Path dir;

    @BeforeAll
    static void needsTshark() {
        for (String p : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(p, "tshark"))) {
                return;
            }
        }
        fail("tshark is not on the PATH: run capture/setup.sh (./run-tests must call it before Maven)");
    }

    static Stream<Arguments> captures() {
        List<Arguments> all = new ArrayList<>();
        for (String name : GoldenScenarios.NAMES) {
            all.add(Arguments.of(name, GoldenScenarios.SNAPLEN_BYTES));
            all.add(Arguments.of(name, Capture.DEFAULT_SNAPLEN_BYTES));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0}, snaplen {1}")
    @MethodSource("captures")
    void tsharkShowsTheFieldsTheEngineUsed(String name, int snaplen) throws Exception {
        Path file = dir.resolve(name + "-" + snaplen + ".pcap");
        GoldenScenarios.Run run = GoldenScenarios.run(name, file, snaplen);
        List<String[]> rows = tshark(file);

        assertThat(rows).hasSameSizeAs(run.packets());
        for (int i = 0; i < rows.size(); i++) {
            String[] row = rows.get(i);
            Packet p = run.packets().get(i);
            String at = name + " record " + (i + 1) + " (" + p + ")";
            int whole = PcapWriter.HEADERS_BYTES + p.len;
            assertThat(field(row, "_ws.malformed")).as(at + ": malformed").isEmpty();
            assertThat(field(row, "_ws.short")).as(at + ": cut short").isEqualTo(whole > snaplen ? "[Packet size limited during capture: vsock truncated]" : "");
            assertThat(number(row, "frame.len")).as(at).isEqualTo(whole);
            assertThat(number(row, "frame.cap_len")).as(at).isEqualTo(Math.min(whole, snaplen));
            assertThat(List.of(number(row, "vsock.src_cid"), number(row, "vsock.dst_cid"), number(row, "vsock.src_port"), number(row, "vsock.dst_port"),
                    number(row, "vsock.virtio.src_cid"), number(row, "vsock.virtio.dst_cid"), number(row, "vsock.virtio.src_prot"), number(row, "vsock.virtio.dst_prot")))
                    .as(at + ": addresses").containsExactly(p.srcCid, p.dstCid, u32(p.srcPort), u32(p.dstPort), p.srcCid, p.dstCid, u32(p.srcPort), u32(p.dstPort));
            assertThat(List.of(number(row, "vsock.op"), number(row, "vsock.trans"), number(row, "vsock.trans_len")))
                    .as(at + ": vsockmon header").containsExactly((long) Vsockmon.opClass(p.op), (long) Vsockmon.TRANSPORT_VIRTIO, 44L);
            assertThat(List.of(number(row, "vsock.virtio.len"), number(row, "vsock.virtio.type"), number(row, "vsock.virtio.op"), number(row, "vsock.virtio.flags"),
                    number(row, "vsock.virtio.buf_alloc"), number(row, "vsock.virtio.fwd_cnt")))
                    .as(at + ": virtio header").containsExactly(u32(p.len), (long) p.type, (long) p.op, u32(p.flags), u32(p.bufAlloc), u32(p.fwdCnt));
            if (whole <= snaplen && p.len > 0) {
                assertThat(field(row, "vsock.payload")).as(at + ": payload").isEqualTo(HexFormat.of().formatHex(p.payloadBytes()));
            }
        }
    }

    private static long u32(int v) {
        return Integer.toUnsignedLong(v);
    }

    private static String field(String[] row, String name) {
        for (int i = 0; i < FIELDS.length; i++) {
            if (FIELDS[i].equals(name)) {
                return i < row.length ? row[i] : "";
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static long number(String[] row, String name) {
        String v = field(row, name);
        assertThat(v).as(name).isNotEmpty();
        return Long.decode(v);
    }

    private static List<String[]> tshark(Path file) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("tshark", "-n", "-r", file.toString(), "-T", "fields", "-E", "occurrence=f"));
        for (String f : FIELDS) {
            cmd.add("-e");
            cmd.add(f);
        }
        Path err = file.resolveSibling(file.getFileName() + ".stderr");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("tshark exit status; stderr: " + Files.readString(err)).isZero();
        List<String[]> rows = new ArrayList<>();
        for (String line : new String(out, StandardCharsets.UTF_8).split("\n")) {
            if (!line.isEmpty()) {
                rows.add(line.split("\t", -1));
            }
        }
        return rows;
    }
}
