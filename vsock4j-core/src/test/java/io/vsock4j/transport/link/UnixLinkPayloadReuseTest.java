package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.PayloadPool;
import io.vsock4j.wire.VirtioVsock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Unix link gives a written packet's payload array back to the {@link PayloadPool}, and its reader
 * takes arrays from it. Reuse must never hand out an array that is still being written or still held:
 * the sender here refills pooled arrays as fast as it can while the receiver keeps every packet, so an
 * array given back too early would show up as a packet whose bytes are not all its own.
 */
class UnixLinkPayloadReuseTest {
    private static final int FULL = VirtioVsock.MAX_PACKET_PAYLOAD_BYTES;

    @TempDir
    Path dir;

    @Test
    void pooledPayloadsArriveIntactAndComeBackOnceWritten() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(dir.resolve("reuse.sock")));
            SocketChannel a = SocketChannel.open(server.getLocalAddress());
            SocketChannel b = server.accept();
            UnixLink sender = UnixLink.over(a, "reuse-tx");
            UnixLink receiver = UnixLink.over(b, "reuse-rx");
            LinkedBlockingQueue<Packet> arrived = new LinkedBlockingQueue<>();
            sender.start(new Discard());
            receiver.start(new PacketLink.Receiver() {
                @Override
                public void packet(Packet packet) {
                    arrived.add(packet);
                }

                @Override
                public void down(String reason) {
                }
            });
            try {
                int count = 300;
                for (int i = 0; i < count; i++) {
                    byte[] payload = PayloadPool.take(FULL);
                    Arrays.fill(payload, (byte) i);
                    sender.send(rw(i, payload));
                }
                List<Packet> kept = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    Packet p = arrived.poll(30, TimeUnit.SECONDS);
                    assertThat(p).as("packet %d arrived", i).isNotNull();
                    kept.add(p);
                }
                for (int i = 0; i < count; i++) {
                    Packet p = kept.get(i);
                    assertThat(p.fwdCnt).as("in order").isEqualTo(i);
                    assertThat(p.len).isEqualTo(FULL);
                    byte[] expected = new byte[FULL];
                    Arrays.fill(expected, (byte) i);
                    assertThat(Arrays.equals(p.payload, p.payloadOffset, p.payloadOffset + FULL, expected, 0, FULL))
                            .as("packet %d carries only its own bytes", i).isTrue();
                }

                // The array of one more packet comes back once it is written: into the pool, or already
                // out of it again as the array the receiving reader copied this very packet into (the
                // reader takes from the same pool, in this process). Empty the pool first: it is full of
                // the arrays above by now, and a full pool drops what it is given.
                for (int i = 0; i < PayloadPool.MAX_POOLED_ARRAYS; i++) {
                    PayloadPool.take(FULL);
                }
                byte[] marked = PayloadPool.take(FULL);
                sender.send(rw(count, marked));
                Packet last = arrived.poll(30, TimeUnit.SECONDS);
                assertThat(last).isNotNull();
                assertThat(last.payload == marked || awaitInPool(marked))
                        .as("the written packet's array went back to the pool").isTrue();
            } finally {
                sender.close();
                receiver.close();
            }
        }
    }

    /**
     * Takes what the pool holds, looking for {@code array}, for a while. What it takes is dropped, not
     * given back: the pool must keep room, or the link's give would be dropped as into a full pool.
     */
    private static boolean awaitInPool(byte[] array) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() - deadline < 0) {
            for (int i = 0; i < PayloadPool.MAX_POOLED_ARRAYS; i++) {
                if (PayloadPool.take(FULL) == array) {
                    return true;
                }
            }
            Thread.sleep(5); // the writer gives it back right after its write returns
        }
        return false;
    }

    private static Packet rw(int sequence, byte[] payload) {
        Packet p = Packet.control(VirtioVsock.TYPE_STREAM, VirtioVsock.OP_RW, 0,
                VsockAddress.of(VsockAddress.CID_LOCAL, 1000), VsockAddress.of(VsockAddress.CID_LOCAL, 2000));
        p.fwdCnt = sequence;
        p.payload = payload;
        p.len = payload.length;
        return p;
    }

    private static final class Discard implements PacketLink.Receiver {
        @Override
        public void packet(Packet packet) {
        }

        @Override
        public void down(String reason) {
        }
    }
}
