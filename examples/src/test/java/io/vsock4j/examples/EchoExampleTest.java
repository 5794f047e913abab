package io.vsock4j.examples;

import io.vsock4j.Vsock;
import io.vsock4j.VsockAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The echo example over CID 1 of this JVM's Java loopback. */
@Timeout(60)
class EchoExampleTest {
    @Test
    void theClientGetsItsTextBack() throws Exception {
        try (EchoServer server = EchoServer.start(Vsock.defaultProvider(), 5000)) {
            String text = "hello over vsock ".repeat(10_000);
            assertEquals(text, EchoClient.echo(Vsock.defaultProvider(), VsockAddress.of(VsockAddress.CID_LOCAL, 5000), text));
        }
    }
}
