package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.testing.Cleanup;
import io.vsock4j.wire.VirtioVsock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a Unix link's outbound queue must hold: everything its connections' credit lets them have in
 * flight. Found by issue #17's load on the shared machine (ConcurrentLoadTest): 1,000 connections from one
 * process, each allowed 256 KiB in flight, can queue far more than {@link UnixLink#MAX_QUEUED_BYTES}
 * (then 32 MiB) while the daemon is merely slower than they are, and the link was then dropped as a peer
 * that "stopped reading", resetting every connection on it. Data within credit no longer counts as a
 * sign of a peer that does not read; only replies and a much larger byte bound do.
 *
 * <p>Here the pause is made deterministic: a tap on the host blocks the host's reader of the guest's link
 * (taps run on the delivering thread) while the test thread, on the guest, writes each connection's full
 * credit; then the pause ends and the host reads it all.
 */
@Timeout(60)
class UnixLinkQueueTest {
    /** The byte bound the link had when this was found; data now counts only against MAX_QUEUED_BYTES. */
    private static final long OLD_BOUND_BYTES = 32L * 1024 * 1024;
    /** Enough connections that their credit together passes the old bound: 40 MiB in flight. */
    private static final int CONNECTIONS = (int) (OLD_BOUND_BYTES / VsockOptions.DEFAULT_BUFFER_SIZE_BYTES) + 32;
    private static final int PORT = 600;

    @RegisterExtension
    final Cleanup cleanup = new Cleanup();

    @TempDir
    Path dir;

    @Test
    void connectionsSendingTheirWholeCreditWhileThePeerPausesDoNotDropTheLink() throws Exception {
        HostTransport h2g = new HostTransport("queue-host", false);
        Machine host = cleanup.close(Machine.builder().name("queue-host").transport(h2g).build());
        UnixLinkServer server = cleanup.close(UnixLinkServer.serve(dir.resolve("link.sock"), h2g, 3));
        GuestTransport g2h = UnixLinks.connectGuest(server.path());
        Machine guest = cleanup.close(Machine.builder().name("queue-guest").transport(g2h).build());
        VsockServerSocket listener = cleanup.close(VsockServerSocket.open(host));
        listener.bind(VsockAddress.of(VsockAddress.CID_ANY, PORT), CONNECTIONS);
        List<VsockSocket[]> pairs = new ArrayList<>();
        for (int i = 0; i < CONNECTIONS; i++) {
            VsockSocket out = cleanup.close(VsockSocket.connect(guest, VsockAddress.of(VsockAddress.CID_HOST, PORT)));
            pairs.add(new VsockSocket[] {out, cleanup.close(listener.accept())});
        }

        CountDownLatch resume = new CountDownLatch(1);
        host.addTap((outbound, transport, packet) -> {
            if (!outbound && packet.op == VirtioVsock.OP_RW) {
                try {
                    resume.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        // Each write fits the credit the host gave at connect, so it returns without waiting for the host.
        byte[] credit = new byte[(int) VsockOptions.DEFAULT_BUFFER_SIZE_BYTES];
        for (int i = 0; i < CONNECTIONS; i++) {
            Arrays.fill(credit, (byte) i);
            try {
                pairs.get(i)[0].getOutputStream().write(credit);
            } catch (IOException e) {
                throw new AssertionError("write " + i + " of " + CONNECTIONS + " (" + (long) i * credit.length
                        + " bytes queued before it); the guest's link: " + g2h.downReason(), e);
            }
        }
        resume.countDown();
        for (int i = 0; i < CONNECTIONS; i++) {
            byte[] got;
            try {
                got = pairs.get(i)[1].getInputStream().readNBytes(credit.length);
            } catch (IOException e) {
                throw new AssertionError("read on connection " + i + " of " + CONNECTIONS + " ("
                        + ((long) CONNECTIONS * credit.length >> 20) + " MiB were in flight within credit); the guest's link: "
                        + g2h.downReason(), e);
            }
            assertThat(got).as("connection %d", i).hasSize(credit.length).containsOnly((byte) i);
        }
    }
}
