package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a {@link UnixLink} does with the packets still queued when it is closed: it writes them first,
 * so that a process that sent its last bytes and closed its machine (a {@code vsock nc} on the shared
 * machine, exiting) does not lose the end of its stream. The peer here reads nothing until the close
 * has begun, so the packets are certainly still queued then.
 */
@Timeout(60)
class UnixLinkCloseTest {
    @TempDir
    Path dir;

    @Test
    void closeWritesWhatIsQueuedBeforeTheChannelCloses() throws Exception {
        Path path = dir.resolve("pair.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            SocketChannel senderEnd = SocketChannel.open(UnixDomainSocketAddress.of(path));
            SocketChannel receiverEnd = server.accept();
            UnixLink sender = UnixLink.over(senderEnd, "sender");
            UnixLink receiver = UnixLink.over(receiverEnd, "receiver");
            sender.start(new Ignore());

            int packets = 64; // 4 MiB: far more than the socket's buffers hold
            for (int i = 0; i < packets; i++) {
                Packet p = Packet.control(VirtioVsock.TYPE_STREAM, VirtioVsock.OP_RW, 0,
                        VsockAddress.of(3, 5000), VsockAddress.of(VsockAddress.CID_HOST, 1024));
                p.payload = new byte[VirtioVsock.MAX_PACKET_PAYLOAD_BYTES];
                p.payload[0] = (byte) i;
                p.len = p.payload.length;
                sender.send(p);
            }
            Thread closer = Thread.ofPlatform().start(sender::close);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (closer.getState() != Thread.State.TIMED_WAITING && closer.isAlive() && System.nanoTime() < deadline) {
                Thread.onSpinWait(); // the close has begun: it waits for the writer, or (unfixed) it is over
            }

            AtomicLong arrived = new AtomicLong();
            AtomicLong inOrder = new AtomicLong();
            CountDownLatch down = new CountDownLatch(1);
            CompletableFuture<String> reason = new CompletableFuture<>();
            receiver.start(new PacketLink.Receiver() {
                @Override
                public void packet(Packet p) {
                    if (p.payload[p.payloadOffset] == (byte) arrived.get()) {
                        inOrder.incrementAndGet();
                    }
                    arrived.incrementAndGet();
                }

                @Override
                public void down(String why) {
                    reason.complete(why);
                    down.countDown();
                }
            });
            closer.join();
            assertThat(down.await(30, TimeUnit.SECONDS)).as("the receiver saw the link go down").isTrue();
            assertThat(arrived.get()).as("packets that arrived (the link went down: %s)", reason.getNow("?")).isEqualTo(packets);
            assertThat(inOrder.get()).as("packets in the order sent").isEqualTo(packets);
            assertThat(reason.get()).isEqualTo("peer closed the link");
            receiver.close();
        }
    }

    private static final class Ignore implements PacketLink.Receiver {
        @Override
        public void packet(Packet packet) {
        }

        @Override
        public void down(String reason) {
        }
    }
}
