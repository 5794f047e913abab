package io.vsock4j.cli;

import io.vsock4j.machines.Machines;
import io.vsock4j.conformance.ConformanceSuite;
import io.vsock4j.core.Machine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vsock test --mode server} and {@code --mode client} keep step over a real TCP control
 * connection (127.0.0.1). Both commands run in this JVM on one machine: this tests the command's modes;
 * the same two-process run across two JVMs on a shared machine is vsock4j-conformance's ConformanceTest.
 */
@Timeout(300)
class RemoteRunTest {
    private record Run(Future<Integer> exit, ByteArrayOutputStream out, ByteArrayOutputStream err) {
    }

    private static Run vsock(ExecutorService threads, Machine machine, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Stdio stdio = new Stdio(new ByteArrayInputStream(new byte[0]), out, new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(threads.submit(() -> VsockCommand.execute(stdio, (choice, name) -> machine, args)), out, err);
    }

    private static int freeTcpPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void serverAndClientModesRunEveryCaseInStep() throws Exception {
        int control = freeTcpPort();
        try (Machine machine = Machines.loopback(); ExecutorService threads = Executors.newCachedThreadPool()) {
            Run server = vsock(threads, machine, "test", "--mode", "server", "--control-port", "" + control, "--base-port", "23000");
            Run client = vsock(threads, machine, "test", "--mode", "client", "--peer-cid", "1",
                    "--control-port", "" + control, "--base-port", "23000");
            assertThat(client.exit().get(240, TimeUnit.SECONDS)).as(client.out() + "" + client.err()).isZero();
            assertThat(server.exit().get(30, TimeUnit.SECONDS)).as(server.out() + "" + server.err()).isZero();
            int cases = ConformanceSuite.cases().size();
            for (Run r : List.of(server, client)) {
                List<String> lines = r.out().toString(StandardCharsets.UTF_8).lines().toList();
                assertThat(lines).hasSize(cases + 1);
                assertThat(lines.getLast()).isEqualTo(cases + " passed, 0 failed");
            }
        }
    }

    @Test
    void aFailingHalfFailsTheCaseOnBothSidesAndTheRunGoesOn() throws Exception {
        int control = freeTcpPort();
        try (Machine machine = Machines.loopback(); ExecutorService threads = Executors.newCachedThreadPool()) {
            Run server = vsock(threads, machine, "test", "--mode", "server", "--control-port", "" + control,
                    "--base-port", "24000", "--filter", "MSG_PEEK");
            // The client looks for the server on CID 3, which this machine cannot reach (ENODEV).
            Run client = vsock(threads, machine, "test", "--mode", "client", "--peer-cid", "3",
                    "--control-port", "" + control, "--base-port", "24000", "--filter", "MSG_PEEK");
            assertThat(client.exit().get(120, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(server.exit().get(30, TimeUnit.SECONDS)).isEqualTo(1);
            for (Run r : List.of(server, client)) {
                String out = r.out().toString(StandardCharsets.UTF_8);
                assertThat(out.lines().filter(l -> l.startsWith("FAIL ")).toList()).hasSize(2)
                        .allMatch(l -> l.contains("client: NoRouteToHostException ENODEV"));
                assertThat(out).endsWith("0 passed, 2 failed\n");
            }
        }
    }
}
