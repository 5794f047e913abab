package io.vsock4j.transport.link;

import io.vsock4j.SocketHandle;
import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.loopback.LoopbackTransport;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A listener that accepts and closes at once, across an in-memory link (whose transports deliver on
 * threads of their own, so the peer's SHUTDOWN can end the connection before the connecting thread
 * wakes): every blocking connect succeeds (RESPONSE came: connected, then EOF), and once the clients are
 * closed the guest machine holds no connection. Regression: such a connect failed with ECONNRESET and left
 * its connection, already in the machine's table, with no socket to release it (about half of 3,000
 * connects on the development VM; found by the vsock4j-netty work, issue #15).
 */
class AcceptThenCloseRaceTest {
    private static final int CONNECTS = 1000;

    @Test
    void connectsToAListenerThatClosesAtOnceSucceedAndLeaveNoConnectionBehind() throws Exception {
        HostTransport hostSide = new HostTransport("host", false);
        try (Machine host = Machine.builder().name("host").transport(hostSide).transport(new LoopbackTransport()).build();
             Machine guest = Machine.builder().name("guest").transport(hostSide.attachInMemory(3))
                     .transport(new LoopbackTransport()).build();
             SocketHandle server = host.open(SocketType.STREAM)) {
            server.bind(VsockAddress.of(VsockAddress.CID_ANY, 6000));
            server.listen(CONNECTS);
            AtomicBoolean stop = new AtomicBoolean();
            Thread acceptor = Thread.ofPlatform().name("accept-and-close").start(() -> {
                try {
                    while (!stop.get()) {
                        server.accept(0).close();
                    }
                } catch (IOException closed) {
                    // the server socket closed at the end of the test
                }
            });
            List<SocketHandle> clients = new ArrayList<>();
            List<String> failures = new ArrayList<>();
            try {
                for (int i = 0; i < CONNECTS; i++) {
                    SocketHandle c = guest.open(SocketType.STREAM);
                    clients.add(c);
                    try {
                        c.connect(VsockAddress.of(VsockAddress.CID_HOST, 6000), 0);
                    } catch (IOException e) {
                        failures.add(e.toString());
                    }
                }
            } finally {
                for (SocketHandle c : clients) {
                    c.close();
                }
                stop.set(true);
                server.close();
                acceptor.join();
            }
            assertThat(failures).as("connects that failed").isEmpty();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (guest.connectionCount() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(guest.connectionCount()).as("guest connections left after every client closed").isZero();
        }
    }
}
