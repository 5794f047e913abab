package io.vsock4j;

import io.vsock4j.engine.Packet;
import io.vsock4j.engine.VirtioVsock;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Stream data: half-close, EOF, EPIPE, credit, peek, low-water mark, many connections, integrity. */
class StreamDataTest extends LoopbackFixture {
    private static final int BUFFER = 256 * 1024;

    /** A connected pair on the test machine: [client, accepted]. */
    private VsockSocket[] pair(int port) throws Exception {
        VsockServerSocket server = listen(port);
        VsockSocket client = connect(port);
        VsockSocket accepted = track(server.accept());
        return new VsockSocket[] {client, accepted};
    }

    @Test
    void shutdownOutputGivesThePeerEofAfterTheDataAndTheShutSideStillReads() throws Exception {
        VsockSocket[] p = pair(7100);
        p[0].getOutputStream().write("last words".getBytes(StandardCharsets.UTF_8));
        p[0].shutdownOutput();
        assertThat(new String(p[1].getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("last words");
        assertThat(p[1].getInputStream().read()).isEqualTo(-1); // EOF stays EOF
        p[1].getOutputStream().write("reply".getBytes(StandardCharsets.UTF_8));
        byte[] reply = new byte[5];
        assertThat(p[0].getInputStream().readNBytes(reply, 0, 5)).isEqualTo(5);
        assertThat(new String(reply, StandardCharsets.UTF_8)).isEqualTo("reply");
        assertThatThrownBy(() -> p[0].getOutputStream().write(1))
                .isInstanceOf(SocketException.class).hasMessageStartingWith("EPIPE");
    }

    @Test
    void writingAfterThePeerShutItsInputIsEPIPE() throws Exception {
        VsockSocket[] p = pair(7101);
        p[1].shutdownInput();
        assertThat(p[1].getInputStream().read()).as("a shut input reads EOF").isEqualTo(-1);
        OutputStream out = p[0].getOutputStream();
        // The SHUTDOWN packet travels through the loopback worker: the first writes may still go.
        assertThatThrownBy(() -> {
            for (int i = 0; i < 1000; i++) {
                out.write(1);
                Thread.sleep(1);
            }
        }).isInstanceOf(SocketException.class).hasMessageStartingWith("EPIPE");
    }

    @Test
    void closeGivesThePeerEofAndTheDataBeforeIt() throws Exception {
        VsockSocket[] p = pair(7102);
        byte[] data = new byte[100_000];
        new Random(1).nextBytes(data);
        p[0].getOutputStream().write(data);
        p[0].close();
        assertThat(p[1].getInputStream().readAllBytes()).isEqualTo(data);
        assertThatThrownBy(() -> p[1].getOutputStream().write(1)).hasMessageStartingWith("EPIPE");
        p[1].close();
        assertNoSocketsLeftExceptListener();
    }

    private void assertNoSocketsLeftExceptListener() throws InterruptedException {
        for (int i = 0; i < 200 && machine.connectionCount() > 0; i++) {
            Thread.sleep(10);
        }
        assertThat(machine.connectionCount()).isZero();
        assertThat(machine.boundCount()).as("only the listener stays bound").isEqualTo(1);
    }

    @Test
    void aReceiverThatNeverReadsStopsTheSenderAfterItsBuffer() throws Exception {
        VsockSocket[] p = pair(7103);
        p[0].setSendTimeout(300);
        byte[] chunk = new byte[16 * 1024];
        OutputStream out = p[0].getOutputStream();
        long sent = 0;
        try {
            for (int i = 0; i < 100; i++) { // 1.6 MB, far beyond the 256 KiB buffer
                out.write(chunk);
                sent += chunk.length;
            }
            throw new AssertionError("the sender was never stopped");
        } catch (SocketTimeoutException stopped) {
            sent += stopped.bytesTransferred;
            assertThat(stopped).hasMessageStartingWith("EAGAIN");
        }
        assertThat(sent).isEqualTo(BUFFER);
        assertThat(p[1].available()).isEqualTo(BUFFER);
        assertThat(p[0].unacknowledged()).isEqualTo(BUFFER);
        // 16 KiB packets are kept as they came: the queue holds exactly the buffer, no more.
        assertThat(engineOf(p[1]).retainedBytes()).as("heap held by the receive queue").isLessThanOrEqualTo(BUFFER);
    }

    @Test
    void readingResumesTheFlowWithACreditUpdate() throws Exception {
        ConcurrentLinkedQueue<Packet> creditUpdates = new ConcurrentLinkedQueue<>();
        machine.addTap((outbound, transport, packet) -> {
            if (outbound && packet.op == VirtioVsock.OP_CREDIT_UPDATE) {
                creditUpdates.add(packet);
            }
        });
        VsockSocket[] p = pair(7104);
        byte[] data = new byte[3 * BUFFER];
        new Random(2).nextBytes(data);
        Future<?> writer = peer(() -> {
            p[0].getOutputStream().write(data);
            return null;
        });
        // Wait until the sender is stuck on credit: the whole buffer is queued.
        for (int i = 0; i < 500 && p[1].available() < BUFFER; i++) {
            Thread.sleep(5);
        }
        assertThat(p[1].available()).isEqualTo(BUFFER);
        assertThat(writer.isDone()).isFalse();
        assertThat(creditUpdates).isEmpty();
        byte[] got = p[1].getInputStream().readNBytes(data.length);
        writer.get(10, TimeUnit.SECONDS);
        assertThat(got).isEqualTo(data);
        assertThat(creditUpdates).isNotEmpty();
        Packet last = creditUpdates.stream().reduce((a, b) -> b).orElseThrow();
        assertThat(last.bufAlloc).isEqualTo(BUFFER);
    }

    @Test
    void peekShowsWhatTheNextReadReturns() throws Exception {
        VsockSocket[] p = pair(7105);
        byte[] buf = new byte[16];
        assertThat(p[1].receive(buf, 0, 16, MessageFlags.MSG_PEEK | MessageFlags.MSG_DONTWAIT))
                .as("nothing queued: EAGAIN as 0").isZero();
        p[0].getOutputStream().write("HELLO".getBytes(StandardCharsets.UTF_8));
        p[0].getOutputStream().write("WORLD".getBytes(StandardCharsets.UTF_8));
        waitForQueued(p[1], 10);
        byte[] partial = new byte[3];
        assertThat(p[1].receive(partial, 0, 3, MessageFlags.MSG_PEEK)).isEqualTo(3);
        assertThat(new String(partial, StandardCharsets.UTF_8)).isEqualTo("HEL");
        byte[] full = new byte[10];
        assertThat(p[1].receive(full, 0, 10, MessageFlags.MSG_PEEK)).isEqualTo(10);
        byte[] read = new byte[10];
        // Small packets merge into one read, as the kernel's "HELLO" + "WORLD" case checks.
        assertThat(p[1].receive(read, 0, 10, MessageFlags.MSG_DONTWAIT)).isEqualTo(10);
        assertThat(read).isEqualTo(full);
        assertThat(new String(read, StandardCharsets.UTF_8)).isEqualTo("HELLOWORLD");
    }

    @Test
    void aReaderWaitsForTheLowWaterMark() throws Exception {
        VsockSocket[] p = pair(7106);
        p[1].setOption(VsockOptions.SO_RCVLOWAT, 100);
        p[1].setSoTimeout(200);
        p[0].getOutputStream().write(new byte[60]);
        waitForQueued(p[1], 60);
        byte[] buf = new byte[1000];
        assertThatThrownBy(() -> p[1].getInputStream().read(buf))
                .as("60 bytes queued, low-water mark 100").isInstanceOf(SocketTimeoutException.class);
        p[0].getOutputStream().write(new byte[40]);
        assertThat(p[1].getInputStream().read(buf)).isEqualTo(100);
        // EOF releases a reader below the mark.
        p[0].getOutputStream().write(new byte[10]);
        p[0].shutdownOutput();
        assertThat(p[1].getInputStream().read(buf)).isEqualTo(10);
        assertThat(p[1].getInputStream().read(buf)).isEqualTo(-1);
    }

    @Test
    void aReadTimeoutLeavesTheSocketUsable() throws Exception {
        VsockSocket[] p = pair(7107);
        p[1].setSoTimeout(100);
        assertThatThrownBy(() -> p[1].getInputStream().read())
                .isInstanceOf(SocketTimeoutException.class).hasMessageStartingWith("EAGAIN");
        p[0].getOutputStream().write(42);
        assertThat(p[1].getInputStream().read()).isEqualTo(42);
    }

    @Test
    void hundredConnectionsAtOnceOnOneListener() throws Exception {
        VsockServerSocket server = track(VsockServerSocket.open(machine));
        server.bind(VsockAddress.of(VsockAddress.CID_ANY, 7108), 128);
        List<VsockSocket> clients = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            clients.add(connect(7108));
        }
        List<VsockSocket> accepted = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            accepted.add(track(server.accept()));
        }
        for (int i = 0; i < 100; i++) {
            clients.get(i).getOutputStream().write(i);
        }
        int sum = 0;
        for (VsockSocket s : accepted) {
            sum += s.getInputStream().read();
        }
        assertThat(sum).isEqualTo(99 * 100 / 2);
        assertThat(machine.connectionCount()).isEqualTo(200);
    }

    @Test
    void manyBytesInRandomChunksArriveIntactInBothDirectionsAtOnce() throws Exception {
        VsockSocket[] p = pair(7109);
        int size = 24 * 1024 * 1024;
        Future<String> aToB = peer(() -> pump(p[0].getOutputStream(), size, 11));
        Future<String> bToA = peer(() -> pump(p[1].getOutputStream(), size, 12));
        Future<String> atB = peer(() -> drain(p[1].getInputStream(), 13));
        Future<String> atA = peer(() -> drain(p[0].getInputStream(), 14));
        String sentAB = aToB.get(60, TimeUnit.SECONDS);
        p[0].shutdownOutput();
        String sentBA = bToA.get(60, TimeUnit.SECONDS);
        p[1].shutdownOutput();
        assertThat(atB.get(60, TimeUnit.SECONDS)).isEqualTo(sentAB);
        assertThat(atA.get(60, TimeUnit.SECONDS)).isEqualTo(sentBA);
    }

    @Test
    void fullPacketWritesOnSeveralConnectionsAtOnceArriveIntact() throws Exception {
        // Full 64 KiB packets travel in pooled arrays: a buffer handed back too early would corrupt a
        // neighbour's stream, so several connections run at once and every byte is hashed.
        VsockServerSocket server = listen(7110);
        int connections = 4;
        int size = 16 * 1024 * 1024;
        List<Future<String>> sent = new ArrayList<>();
        List<Future<String>> received = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            VsockSocket client = connect(7110);
            VsockSocket accepted = track(server.accept());
            long seed = 100 + c;
            sent.add(peer(() -> {
                Random random = new Random(seed);
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                byte[] chunk = new byte[64 * 1024];
                for (int i = 0; i < size / chunk.length; i++) {
                    random.nextBytes(chunk);
                    client.getOutputStream().write(chunk);
                    sha.update(chunk);
                }
                client.shutdownOutput();
                return HexFormat.of().formatHex(sha.digest());
            }));
            received.add(peer(() -> drain(accepted.getInputStream(), seed)));
        }
        for (int c = 0; c < connections; c++) {
            assertThat(received.get(c).get(60, TimeUnit.SECONDS)).isEqualTo(sent.get(c).get(60, TimeUnit.SECONDS));
        }
    }

    @Test
    void closingReadersInTheMiddleOfTheirCopiesNeverCorruptsAnotherConnection() throws Exception {
        // Readers copy out of pooled payload arrays with the connection lock released: a close during
        // that copy must neither hand such an array back to the pool (a neighbour's sender would refill
        // it) nor fail the reader with anything but "Socket closed". A witness stream runs alongside.
        VsockSocket[] witness = pair(7120);
        int size = 32 * 1024 * 1024;
        Future<String> witnessSent = peer(() -> {
            Random random = new Random(7);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] chunk = new byte[64 * 1024];
            for (int i = 0; i < size / chunk.length; i++) {
                random.nextBytes(chunk);
                witness[0].getOutputStream().write(chunk);
                sha.update(chunk);
            }
            witness[0].shutdownOutput();
            return HexFormat.of().formatHex(sha.digest());
        });
        Future<String> witnessReceived = peer(() -> drain(witness[1].getInputStream(), 7));
        Random timing = new Random(11);
        for (int round = 0; round < 200; round++) {
            VsockSocket[] p = pair(7121 + round);
            Future<Void> writer = peer(() -> {
                byte[] chunk = new byte[64 * 1024];
                try {
                    while (true) {
                        p[0].getOutputStream().write(chunk);
                    }
                } catch (java.io.IOException peerClosed) {
                    return null; // EPIPE or a reset once the reader's socket is gone
                }
            });
            Future<Throwable> reader = peer(() -> {
                byte[] buf = new byte[64 * 1024];
                try {
                    while (p[1].getInputStream().read(buf) >= 0) {
                        // keep copying
                    }
                    return null;
                } catch (Throwable t) {
                    return t;
                }
            });
            Thread.sleep(timing.nextInt(3));
            p[1].close();
            Throwable readerEnd = reader.get(10, TimeUnit.SECONDS);
            if (readerEnd != null) {
                assertThat(readerEnd).isInstanceOf(SocketException.class).hasMessage("Socket closed");
            }
            writer.get(10, TimeUnit.SECONDS);
            p[0].close();
        }
        assertThat(witnessReceived.get(60, TimeUnit.SECONDS)).isEqualTo(witnessSent.get(60, TimeUnit.SECONDS));
    }

    /** Writes {@code size} random bytes in random chunk sizes; returns their SHA-256. */
    static String pump(OutputStream out, int size, long seed) throws Exception {
        Random random = new Random(seed);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[200_000];
        int sent = 0;
        while (sent < size) {
            int n = Math.min(size - sent, 1 + random.nextInt(random.nextBoolean() ? 100 : buf.length));
            random.nextBytes(buf);
            out.write(buf, 0, n);
            sha.update(buf, 0, n);
            sent += n;
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Reads to EOF in random read sizes; returns the SHA-256 of what arrived. */
    static String drain(InputStream in, long seed) throws Exception {
        Random random = new Random(seed);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[150_000];
        int n;
        while ((n = in.read(buf, 0, 1 + random.nextInt(buf.length))) >= 0) {
            sha.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void waitForQueued(VsockSocket s, int bytes) throws Exception {
        for (int i = 0; i < 500 && s.available() < bytes; i++) {
            Thread.sleep(2);
        }
        assertThat(s.available()).isGreaterThanOrEqualTo(bytes);
    }

    private io.vsock4j.engine.Connection engineOf(VsockSocket s) {
        return io.vsock4j.core.Machine.connectionOf(s.handle());
    }
}
