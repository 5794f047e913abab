package io.vsock4j;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class SmokeTest extends LoopbackFixture {
    @Test
    void helloOverCidOne() throws Exception {
        VsockServerSocket server = listen(5000);
        Future<String> echoed = peer(() -> {
            try (VsockSocket s = server.accept()) {
                byte[] buf = s.getInputStream().readAllBytes();
                s.getOutputStream().write(buf);
                return new String(buf, StandardCharsets.UTF_8);
            }
        });
        try (VsockSocket client = VsockSocket.connect(machine, VsockAddress.local(5000))) {
            client.getOutputStream().write("hello".getBytes(StandardCharsets.UTF_8));
            client.shutdownOutput();
            assertThat(new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("hello");
        }
        assertThat(echoed.get(5, TimeUnit.SECONDS)).isEqualTo("hello");
        server.close();
        assertNoSocketsLeft();
    }
}
