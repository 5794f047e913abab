package io.vsock4j.cli.proxy;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockSocket;
import io.vsock4j.VsockSocketChannel;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;

/** The vsock listener of a proxy, on this JVM's Java-loopback machine. */
@Timeout(30)
class InboundTest {
    /**
     * The connections a vsock listener accepts take up to a MiB from their peer before the relay reads,
     * four times the default: the peer's non-blocking writes stop where its credit ends. A sender's credit
     * is also bounded by its own buffer (the engine's Credit: min(peer_buf_alloc, buf_alloc)), so the peer has
     * a MiB too.
     */
    @Test
    void acceptedConnectionsGiveTheirPeerOneMiBOfCredit() throws IOException {
        try (Machine machine = Machines.loopback();
             Inbound inbound = Inbound.vsock(machine, 7001);
             VsockSocket socket = VsockSocket.open(machine)) {
            socket.setOption(VsockOptions.BUFFER_MAX_SIZE, 1L << 20).setOption(VsockOptions.BUFFER_SIZE, 1L << 20);
            socket.connect(VsockAddress.of(VsockAddress.CID_LOCAL, 7001));
            End accepted = inbound.accept();
            VsockSocketChannel peer = VsockSocketChannel.wrap(socket.handle());
            peer.configureBlocking(false);
            ByteBuffer chunk = ByteBuffer.allocate(64 << 10);
            long written = 0;
            int n;
            while ((n = peer.write(chunk.clear())) > 0) {
                written += n;
            }
            assertThat(written).isEqualTo(CopyBuffer.MAX_BYTES).isEqualTo(1 << 20);
            assertThat(accepted.peer()).startsWith("vsock ");
            accepted.close();
        }
    }
}
