package io.vsock4j.conformance;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link RemoteRun} with its control lines over vsock, as between a guest and its device's JVM: on a
 * link pair in this JVM, the host serving, the guest connecting to the host's control port, a few cases.
 */
class RemoteRunOverVsockTest {
    /** The host's control port, as across the device: the base port minus one. */
    private static final int CONTROL_PORT = ConformanceSuite.DEFAULT_BASE_PORT - 1;
    private static final Predicate<String> A_FEW = name -> name.startsWith("stream: two small writes")
            || name.startsWith("seqpacket: MSG_TRUNC") || name.startsWith("accept: the accepted socket");

    @Test
    void theTwoHalvesKeepStepOverAVsockControlConnection() throws Exception {
        try (JavaTargets.Open pair = JavaTargets.linkPair()) {
            Target target = pair.target();
            ConformanceSuite host = new ConformanceSuite(Target.of(target.server(), 3), ConformanceSuite.DEFAULT_BASE_PORT);
            ConformanceSuite guest = new ConformanceSuite(Target.of(target.client(), VsockAddress.CID_HOST),
                    ConformanceSuite.DEFAULT_BASE_PORT);
            ByteArrayOutputStream hostOut = new ByteArrayOutputStream();
            ByteArrayOutputStream guestOut = new ByteArrayOutputStream();
            try (VsockServerSocket controls = VsockServerSocket.bind(target.server(),
                    VsockAddress.of(VsockAddress.CID_ANY, CONTROL_PORT))) {
                CompletableFuture<ConformanceSuite.Summary> guestRun = CompletableFuture.supplyAsync(() -> {
                    try (PrintStream out = new PrintStream(guestOut, true, StandardCharsets.UTF_8)) {
                        VsockSocket control = RemoteRun.connectControl(target.client(),
                                VsockAddress.of(VsockAddress.CID_HOST, CONTROL_PORT));
                        return new RemoteRun(guest, false).run(control, out, A_FEW);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                ConformanceSuite.Summary hostSummary;
                try (PrintStream out = new PrintStream(hostOut, true, StandardCharsets.UTF_8)) {
                    hostSummary = new RemoteRun(host, true).run(controls.accept(), out, A_FEW);
                }
                assertThat(hostSummary).as(hostOut.toString(StandardCharsets.UTF_8)).isEqualTo(new ConformanceSuite.Summary(3, 0, 0));
                assertThat(guestRun.get()).as(guestOut.toString(StandardCharsets.UTF_8)).isEqualTo(new ConformanceSuite.Summary(3, 0, 0));
            }
            pair.assertNothingLeft();
        }
    }
}
