package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.machines.Topology;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A program in L1 relays a stream between L0 and L2: 100 MB arrive intact. */
class RelayTest {
    private static final long BYTES = 100L * 1024 * 1024;

    @Test
    void hundredMegabytesFromL0ToL2ThroughARelayInL1() throws Exception {
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        try (Topology net = Topology.nested();
             VsockServerSocket relayServer = VsockServerSocket.bind(net.l1(), VsockAddress.of(VsockAddress.CID_ANY, 1500));
             VsockServerSocket sink = VsockServerSocket.bind(net.l2(), VsockAddress.of(VsockAddress.CID_ANY, 2500))) {
            Future<?> relay = threads.submit(() -> {
                try (VsockSocket fromL0 = relayServer.accept();
                     VsockSocket toL2 = VsockSocket.connect(net.l1(), VsockAddress.of(Topology.L2_CID, 2500))) {
                    Future<?> back = threads.submit(() -> pump(toL2, fromL0));
                    pump(fromL0, toL2);
                    back.get(60, TimeUnit.SECONDS);
                }
                return null;
            });
            Future<byte[]> received = threads.submit(() -> {
                try (VsockSocket s = sink.accept()) {
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    InputStream in = s.getInputStream();
                    byte[] buf = new byte[64 * 1024];
                    long total = 0;
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        md.update(buf, 0, n);
                        total += n;
                    }
                    byte[] digest = md.digest();
                    s.getOutputStream().write(digest);
                    assertThat(total).isEqualTo(BYTES);
                    return digest;
                }
            });

            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            try (VsockSocket client = VsockSocket.connect(net.l0(), VsockAddress.of(Topology.L1_CID, 1500))) {
                OutputStream out = client.getOutputStream();
                Random random = new Random(42);
                byte[] chunk = new byte[256 * 1024];
                for (long done = 0; done < BYTES; done += chunk.length) {
                    random.nextBytes(chunk);
                    sent.update(chunk);
                    out.write(chunk);
                }
                client.shutdownOutput();
                byte[] echoed = client.getInputStream().readNBytes(32);
                byte[] expected = sent.digest();
                assertThat(echoed).isEqualTo(expected);
                assertThat(received.get(60, TimeUnit.SECONDS)).isEqualTo(expected);
            }
            relay.get(60, TimeUnit.SECONDS);
        } finally {
            threads.shutdownNow();
        }
    }

    /** Copies until EOF, then passes the EOF on. */
    private static Void pump(VsockSocket from, VsockSocket to) throws IOException {
        from.getInputStream().transferTo(to.getOutputStream());
        to.shutdownOutput();
        return null;
    }
}
