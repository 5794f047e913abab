package io.vsock4j.capture;

import io.vsock4j.machines.Machines;
import io.vsock4j.MessageFlags;
import io.vsock4j.MessageInfo;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockSeqpacketServerSocket;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Java twins of capture/scenarios.py, the scenarios whose kernel traces are in
 * src/test/resources/golden: same ports, same sizes, same order of calls, on a Java-loopback machine
 * with a capture on. Where the Python script sleeps so the kernel can answer a packet, these wait for
 * the answer to appear in the capture.
 */
final class GoldenScenarios {
    static final List<String> NAMES = List.of("refused", "stream", "unread", "seqpacket", "emsgsize");
    /** What record-golden.sh gives tcpdump: headers and 52 bytes of payload. */
    static final int SNAPLEN_BYTES = 128;

    private static final int CID = VsockAddress.CID_LOCAL;
    private static final int STREAM_BYTES = 384 * 1024;
    private static final int STREAM_READ_CHUNK = 16 * 1024;
    private static final int REPLY_BYTES = 1000;
    private static final int[][] SEQ_MESSAGES = {{100, 0}, {200, MessageFlags.MSG_EOR}, {70000, MessageFlags.MSG_EOR}, {3, 0}};
    private static final int SMALL_BUFFER = 64 * 1024;
    private static final long WAIT_MILLIS = 10_000;

    private final Machine machine;
    /** Every packet delivered (and so captured), for waiting on the peer's answer and for the dissector test. */
    private final List<Packet> seen = new CopyOnWriteArrayList<>();

    private GoldenScenarios(Machine machine) {
        this.machine = machine;
    }

    /** What a run left: the capture as read back, and the packets the engine handled, in delivery order. */
    record Run(List<CapturedPacket> records, List<Packet> packets) {
    }

    /** Runs scenario {@code name} on a fresh Java-loopback machine, captured into {@code file} as record-golden.sh does. */
    static List<CapturedPacket> run(String name, Path file) throws Exception {
        return run(name, file, SNAPLEN_BYTES).records();
    }

    /** Runs scenario {@code name} on a fresh Java-loopback machine with a capture of {@code snaplen} into {@code file}. */
    static Run run(String name, Path file, int snaplen) throws Exception {
        GoldenScenarios s;
        try (Machine m = Machines.loopback(); Capture capture = Capture.open(file, snaplen)) {
            s = new GoldenScenarios(m);
            capture.attach(m);
            Machine.PacketTap record = (outbound, transport, packet) -> {
                if (!outbound) {
                    s.seen.add(snapshot(packet));
                }
            };
            m.addTap(record);
            switch (name) {
                case "refused" -> s.refused();
                case "stream" -> s.stream();
                case "unread" -> s.unread();
                case "seqpacket" -> s.seqpacket();
                case "emsgsize" -> s.emsgsize();
                default -> throw new IllegalArgumentException("no scenario " + name);
            }
            s.awaitQuiet();
            m.removeTap(record);
        }
        return new Run(PcapReader.read(file), List.copyOf(s.seen));
    }

    /** A copy of the packet as delivered: the receiver may later reuse room in its payload array. */
    private static Packet snapshot(Packet p) {
        Packet c = new Packet();
        c.srcCid = p.srcCid;
        c.dstCid = p.dstCid;
        c.srcPort = p.srcPort;
        c.dstPort = p.dstPort;
        c.len = p.len;
        c.type = p.type;
        c.op = p.op;
        c.flags = p.flags;
        c.bufAlloc = p.bufAlloc;
        c.fwdCnt = p.fwdCnt;
        c.payload = p.payloadBytes();
        return c;
    }

    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % 251);
        }
        return b;
    }

    private VsockSocket client(int port) throws IOException {
        VsockSocket c = VsockSocket.open(machine);
        c.bind(VsockAddress.of(CID, port + 1000));
        return c;
    }

    private void refused() throws IOException {
        try (VsockSocket c = client(5001)) {
            assertThatThrownBy(() -> c.connect(VsockAddress.of(CID, 5001))).hasMessageStartingWith("ECONNRESET");
        }
    }

    private void stream() throws Exception {
        byte[] data = pattern(STREAM_BYTES);
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        try (VsockServerSocket ls = VsockServerSocket.bind(machine, VsockAddress.of(CID, 5002));
             VsockSocket c = client(5002)) {
            c.connect(VsockAddress.of(CID, 5002));
            VsockSocket s = ls.accept();
            Future<?> writer = threads.submit(() -> {
                c.getOutputStream().write(data);
                c.shutdownOutput();
                return null;
            });
            // The writer fills the 256 KiB buffer and stalls on credit before the reader starts.
            await(() -> s.available() >= VsockOptions.DEFAULT_BUFFER_SIZE_BYTES, "the receive buffer to fill");
            byte[] got = readAll(s.getInputStream(), STREAM_READ_CHUNK, 2);
            writer.get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            assertThat(got).isEqualTo(data);
            s.getOutputStream().write(pattern(REPLY_BYTES));
            s.shutdownOutput();
            assertThat(readAll(c.getInputStream(), 4096, 0)).isEqualTo(pattern(REPLY_BYTES));
            c.close();
            awaitPacket(p -> p.op == VirtioVsock.OP_RST && p.srcPort == 5002, "the server's RST");
            s.close();
        } finally {
            threads.shutdownNow();
        }
    }

    private void unread() throws Exception {
        try (VsockServerSocket ls = VsockServerSocket.bind(machine, VsockAddress.of(CID, 5003));
             VsockSocket c = client(5003)) {
            c.connect(VsockAddress.of(CID, 5003));
            VsockSocket s = ls.accept();
            c.getOutputStream().write(pattern(REPLY_BYTES));
            await(() -> s.available() == REPLY_BYTES, "the bytes to arrive");
            s.close();
            awaitPacket(p -> p.op == VirtioVsock.OP_RST && p.srcPort == 6003, "the client's RST");
            assertThat(c.getInputStream().read(new byte[10])).isEqualTo(-1);
        }
    }

    private void seqpacket() throws Exception {
        try (VsockSeqpacketServerSocket ls = VsockSeqpacketServerSocket.bind(machine, VsockAddress.of(CID, 5004));
             VsockSeqpacketSocket c = VsockSeqpacketSocket.open(machine)) {
            c.bind(VsockAddress.of(CID, 6004));
            c.connect(VsockAddress.of(CID, 5004));
            VsockSeqpacketSocket s = ls.accept();
            for (int[] m : SEQ_MESSAGES) {
                assertThat(c.send(pattern(m[0]), 0, m[0], m[1])).isEqualTo(m[0]);
            }
            byte[] buf = new byte[128 * 1024];
            for (int[] m : SEQ_MESSAGES) {
                MessageInfo info = new MessageInfo();
                int n = s.receive(buf, 0, buf.length, 0, info);
                assertThat(Arrays.copyOf(buf, n)).isEqualTo(pattern(m[0]));
                assertThat(info.endOfRecord()).isEqualTo(m[1] == MessageFlags.MSG_EOR);
            }
            s.send(pattern(10), 0, 10, MessageFlags.MSG_EOR);
            assertThat(Arrays.copyOf(buf, c.receive(buf))).isEqualTo(pattern(10));
            c.close();
            awaitPacket(p -> p.op == VirtioVsock.OP_RST && p.srcPort == 5004, "the server's RST");
            s.close();
        }
    }

    private void emsgsize() throws Exception {
        try (VsockSeqpacketServerSocket ls = VsockSeqpacketServerSocket.open(machine);
             VsockSeqpacketSocket c = VsockSeqpacketSocket.open(machine)) {
            ls.setOption(VsockOptions.BUFFER_SIZE, (long) SMALL_BUFFER);
            ls.bind(VsockAddress.of(CID, 5005));
            c.bind(VsockAddress.of(CID, 6005));
            c.connect(VsockAddress.of(CID, 5005));
            VsockSeqpacketSocket s = ls.accept();
            assertThatThrownBy(() -> c.send(pattern(SMALL_BUFFER + 1))).hasMessageStartingWith("EMSGSIZE");
            assertThat(c.send(pattern(SMALL_BUFFER))).isEqualTo(SMALL_BUFFER);
            byte[] buf = new byte[128 * 1024];
            assertThat(Arrays.copyOf(buf, s.receive(buf))).isEqualTo(pattern(SMALL_BUFFER));
            c.close();
            awaitPacket(p -> p.op == VirtioVsock.OP_RST && p.srcPort == 5005, "the server's RST");
            s.close();
        }
    }

    private static byte[] readAll(InputStream in, int chunk, long pauseMillis) throws IOException, InterruptedException {
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        byte[] b = new byte[chunk];
        int n;
        while ((n = in.read(b)) > 0) {
            got.write(b, 0, n);
            if (pauseMillis > 0) {
                Thread.sleep(pauseMillis);
            }
        }
        return got.toByteArray();
    }

    private void awaitPacket(Predicate<Packet> what, String description) throws Exception {
        await(() -> seen.stream().anyMatch(what), description);
    }

    /** Waits until every socket is gone and the loopback has delivered its last packet. */
    private void awaitQuiet() throws Exception {
        await(() -> machine.connectionCount() == 0 && machine.boundCount() == 0, "every socket to be closed");
        int before;
        do {
            before = seen.size();
            Thread.sleep(100);
        } while (seen.size() != before);
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void await(Condition c, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        while (!c.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(2);
        }
    }
}
