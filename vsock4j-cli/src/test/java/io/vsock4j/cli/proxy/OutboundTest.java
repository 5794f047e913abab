package io.vsock4j.cli.proxy;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.VsockSocketChannel;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The vsock dialing side of a proxy ({@code --tcp-listen ... --to CID:PORT}), on a Java-loopback machine. */
@Timeout(30)
class OutboundTest {
    /**
     * The service a proxy dials may send it a MiB before the relay reads, as Inbound's accepted sockets
     * take (InboundTest): a bulk answer coming back (a download through the proxy) moves in 1 MiB reads,
     * not in the default 256 KiB. The service's socket has a MiB too, since the engine bounds a sender's
     * credit by its own buffer as well.
     */
    @Test
    void aDialedConnectionGivesTheServiceOneMiBOfCredit() throws IOException {
        try (Machine machine = Machines.loopback();
             VsockServerSocket service = VsockServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, 7002))) {
            service.setOption(VsockOptions.BUFFER_MAX_SIZE, 1L << 20).setOption(VsockOptions.BUFFER_SIZE, 1L << 20);
            End dialed = Outbound.vsock(machine, VsockAddress.of(VsockAddress.CID_LOCAL, 7002)).dial();
            try (VsockSocket accepted = service.accept()) {
                VsockSocketChannel peer = VsockSocketChannel.wrap(accepted.handle());
                peer.configureBlocking(false);
                ByteBuffer chunk = ByteBuffer.allocate(64 << 10);
                long written = 0;
                int n;
                while ((n = peer.write(chunk.clear())) > 0) {
                    written += n;
                }
                assertThat(written).isEqualTo(CopyBuffer.MAX_BYTES).isEqualTo(1 << 20);
                assertThat(dialed.peer()).startsWith("vsock ");
            } finally {
                dialed.close();
            }
        }
    }

    @Test
    void aDialNobodyAnswersLeavesNothingOpen() throws IOException {
        try (Machine machine = Machines.loopback()) {
            assertThatThrownBy(() -> Outbound.vsock(machine, VsockAddress.of(VsockAddress.CID_LOCAL, 7003)).dial())
                    .hasMessageContaining("ECONNRESET").hasMessageContaining("1:7003");
            assertThat(machine.boundCount()).as("bound sockets left").isZero();
            assertThat(machine.connectionCount()).as("connections left").isZero();
        }
    }
}
