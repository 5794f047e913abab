package io.vsock4j;

import io.vsock4j.testing.Trials;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.SplittableRandom;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link VsockSocketChannel} and {@link VsockServerSocketChannel} on the Java loopback: blocking
 * transfers through heap and direct buffers, scattering and gathering, and the non-blocking calls an
 * event loop makes (connect, accept, read and write that return at once) with the readiness listener
 * telling when to try again. Waits are for the listener and then the state, never a fixed sleep.
 */
class VsockSocketChannelTest extends LoopbackFixture {
    private SplittableRandom random;

    @BeforeEach
    void seed() {
        long seed = Trials.seed();
        System.out.println("VsockSocketChannelTest seed " + seed + " (-D" + Trials.SEED_PROPERTY + "=N to replay)");
        random = new SplittableRandom(seed);
    }

    private VsockServerSocketChannel server(int port) throws Exception {
        return track(VsockServerSocketChannel.open(machine).bind(VsockAddress.of(VsockAddress.CID_ANY, port)));
    }

    private ByteBuffer buffer(int size) {
        return random.nextBoolean() ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
    }

    private static long crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return c.getValue();
    }

    @Test
    void blockingGatheringWritesAndScatteringReadsCarryEveryByte() throws Exception {
        VsockServerSocketChannel server = server(5000);
        byte[] data = new byte[3 << 20];
        random.nextBytes(data);
        Future<Long> received = peers.submit(() -> {
            try (VsockSocketChannel in = server.accept()) {
                CRC32 c = new CRC32();
                ByteBuffer[] parts = {buffer(1 + random.nextInt(5000)), buffer(1 + random.nextInt(70_000)), buffer(4096)};
                long total = 0;
                for (long n; (n = in.read(parts)) >= 0; ) {
                    assertThat(n).as("a blocking scattering read returns something").isPositive();
                    for (ByteBuffer p : parts) {
                        p.flip();
                        byte[] b = new byte[p.remaining()];
                        p.get(b);
                        c.update(b);
                        p.clear();
                    }
                    total += n;
                }
                assertThat(total).isEqualTo(data.length);
                return c.getValue();
            }
        });
        try (VsockSocketChannel out = VsockSocketChannel.connect(machine, VsockAddress.local(5000))) {
            for (int at = 0; at < data.length; ) {
                ByteBuffer[] parts = new ByteBuffer[1 + random.nextInt(4)];
                for (int i = 0; i < parts.length; i++) {
                    int n = Math.min(data.length - at, random.nextInt(100_000));
                    parts[i] = buffer(n).put(data, at, n).flip();
                    at += n;
                }
                long want = 0;
                for (ByteBuffer p : parts) {
                    want += p.remaining();
                }
                assertThat(out.write(parts)).isEqualTo(want);
            }
            out.shutdownOutput();
            assertThat(received.get(30, TimeUnit.SECONDS)).isEqualTo(crc(data));
        }
    }

    @Test
    void nonBlockingConnectAcceptReadAndWriteReturnAtOnceAndTheListenerSaysWhenToRetry() throws Exception {
        VsockServerSocketChannel server = server(5001).configureBlocking(false);
        Semaphore serverTold = new Semaphore(0);
        server.setReadinessListener(serverTold::release);
        assertThat(server.accept()).as("nobody waits yet").isNull();

        VsockSocketChannel client = track(VsockSocketChannel.open(machine).configureBlocking(false));
        Semaphore clientTold = new Semaphore(0);
        client.setReadinessListener(clientTold::release);
        boolean connected = client.connect(VsockAddress.local(5001));
        while (!connected) {
            assertThat(clientTold.tryAcquire(10, TimeUnit.SECONDS)).as("told when the connect is over").isTrue();
            connected = client.finishConnect();
        }
        VsockSocketChannel accepted;
        while ((accepted = server.accept()) == null) {
            assertThat(serverTold.tryAcquire(10, TimeUnit.SECONDS)).as("told when a connection waits").isTrue();
        }
        track(accepted);
        accepted.configureBlocking(false);
        Semaphore acceptedTold = new Semaphore(0);
        accepted.setReadinessListener(acceptedTold::release);

        ByteBuffer into = buffer(64);
        assertThat(accepted.read(into)).as("nothing queued: 0 at once").isZero();

        // Write without blocking until the peer's credit is used up: a write then takes 0 bytes.
        ByteBuffer chunk = buffer(64 * 1024);
        long written = 0;
        int n;
        do {
            chunk.clear();
            n = client.write(chunk);
            written += n;
        } while (n > 0);
        assertThat(written).as("what the credit allowed").isPositive().isLessThanOrEqualTo(VsockOptions.DEFAULT_BUFFER_SIZE_BYTES);
        assertThat(client.readyOps() & Readiness.WRITABLE).as("not writable with no credit").isZero();

        // The reader drains what came; the writer is told and can write again.
        long read = 0;
        ByteBuffer sink = buffer(32 * 1024);
        while (read < written) {
            sink.clear();
            int r = accepted.read(sink);
            if (r == 0) {
                assertThat(acceptedTold.tryAcquire(10, TimeUnit.SECONDS)).as("told when data arrives").isTrue();
            }
            read += Math.max(r, 0);
        }
        clientTold.drainPermits();
        while ((client.readyOps() & Readiness.WRITABLE) == 0) {
            assertThat(clientTold.tryAcquire(10, TimeUnit.SECONDS)).as("told when credit comes back").isTrue();
        }
        chunk.clear();
        assertThat(client.write(chunk)).isPositive();

        client.close();
        assertThat(client.isOpen()).isFalse();
        assertThatThrownBy(() -> client.write(ByteBuffer.allocate(1))).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(() -> client.read(ByteBuffer.allocate(1))).isInstanceOf(ClosedChannelException.class);
    }

    /** On the loopback the RST may be in before connect returns, so either call may report it. */
    @Test
    void aNonBlockingConnectToNobodyFailsWithEconnreset() throws Exception {
        VsockSocketChannel client = track(VsockSocketChannel.open(machine).configureBlocking(false));
        Semaphore told = new Semaphore(0);
        client.setReadinessListener(told::release);
        assertThatThrownBy(() -> {
            boolean connected = client.connect(VsockAddress.local(5999));
            assertThat(connected).as("connected to nobody").isFalse();
            while (!client.finishConnect()) {
                assertThat(told.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
            }
        }).isInstanceOf(ConnectException.class).hasMessageStartingWith("ECONNRESET");
    }

    @Test
    void eofIsMinusOneAndAScatteringReadAfterDataReturnsWhatCame() throws Exception {
        VsockServerSocketChannel server = server(5002);
        VsockSocketChannel client = track(VsockSocketChannel.connect(machine, VsockAddress.local(5002)));
        VsockSocketChannel accepted = track(server.accept());
        client.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        client.shutdownOutput();
        ByteBuffer a = ByteBuffer.allocate(2);
        ByteBuffer b = ByteBuffer.allocateDirect(10);
        long got = 0;
        while (got < 3) {
            long n = accepted.read(new ByteBuffer[] {a, b});
            assertThat(n).isPositive();
            got += n;
        }
        assertThat(a.flip().get(0)).isEqualTo((byte) 1);
        assertThat(b.flip().get(0)).isEqualTo((byte) 3);
        assertThat(accepted.read(ByteBuffer.allocate(1))).isEqualTo(-1);
        assertThat(accepted.read(new ByteBuffer[] {ByteBuffer.allocate(1)})).isEqualTo(-1);
    }
}
