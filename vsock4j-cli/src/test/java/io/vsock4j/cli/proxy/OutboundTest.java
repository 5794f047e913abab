package io.vsock4j.cli.proxy;

import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The vsock dialing side of a proxy ({@code --tcp-listen ... --to CID:PORT}), on a Java-loopback machine.
 * Its socket keeps the default receive buffer: with a MiB, as the listener takes, downloads through the
 * proxy were no faster in the guest, 0.89 x in one boot (docs/benchmarks.md, "Downloads through the TCP
 * -> vsock proxy").
 */
@Timeout(30)
class OutboundTest {
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
