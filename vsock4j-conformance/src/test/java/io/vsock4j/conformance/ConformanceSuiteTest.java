package io.vsock4j.conformance;

import io.vsock4j.machines.Machines;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The suite itself: every case passes on the Java loopback, and failures are reported, not hidden. */
@Timeout(300)
class ConformanceSuiteTest {
    @Test
    void everyCasePassesOnTheJavaLoopbackAndTheMachineIsLeftClean() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Machine machine = Machines.loopback()) {
            ConformanceSuite.Summary summary = new ConformanceSuite(machine, VsockAddress.CID_LOCAL, 21_000)
                    .runInProcess(new PrintStream(bytes, true, StandardCharsets.UTF_8), name -> true);
            String out = bytes.toString(StandardCharsets.UTF_8);
            assertThat(summary.failed()).as(out).isZero();
            assertThat(summary.passed()).isEqualTo(ConformanceSuite.cases().size());
            List<String> lines = out.lines().toList();
            assertThat(lines).hasSize(summary.passed() + 1);
            assertThat(lines.getLast()).isEqualTo(summary.passed() + " passed, 0 failed");
            assertThat(lines.subList(0, summary.passed())).allMatch(l -> l.startsWith("PASS "));
            for (int i = 0; i < 500 && (machine.boundCount() > 0 || machine.connectionCount() > 0); i++) {
                Thread.sleep(10);
            }
            assertThat(machine.boundCount()).as("sockets left bound").isZero();
            assertThat(machine.connectionCount()).as("connections left").isZero();
        }
    }

    @Test
    void aPeerThatCannotBeReachedFailsTheCasesWithTheirReason() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Machine machine = Machines.loopback()) {
            // CID 3 routes to the empty G2H slot: every connect fails with ENODEV instead of reaching the server.
            ConformanceSuite.Summary summary = new ConformanceSuite(machine, 3, 22_000)
                    .runInProcess(new PrintStream(bytes, true, StandardCharsets.UTF_8), name -> name.contains("MSG_PEEK"));
            String out = bytes.toString(StandardCharsets.UTF_8);
            assertThat(summary).isEqualTo(new ConformanceSuite.Summary(0, 2));
            assertThat(out.lines().filter(l -> l.startsWith("FAIL ")).toList())
                    .hasSize(2)
                    .allMatch(l -> l.contains("client: NoRouteToHostException ENODEV"));
            assertThat(out).endsWith("0 passed, 2 failed\n");
        }
    }

    @Test
    void caseNamesAreUniqueSoAFilterCanPickOne() {
        assertThat(ConformanceSuite.cases().stream().map(Case::name)).doesNotHaveDuplicates();
    }
}
