package io.vsock4j.conformance;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** How a case's failure becomes PASS, FAIL or DIFFERS, by the kernel release it ran on. */
class VerdictTest {
    private static final KernelDifference PEEK = new KernelDifference("6.6", "a75f501de88e", "EOPNOTSUPP", "no SEQPACKET peek",
            KernelDifference.Half.SERVER);
    private static final Case MARKED = new Case("marked", Case.Half.NOTHING, Case.Half.NOTHING).differs(PEEK);

    @Test
    void releasesCompareByMajorAndMinor() {
        assertThat(PEEK.appliesTo("6.1.0-57-amd64")).isTrue();
        assertThat(PEEK.appliesTo("6.1")).isTrue();
        assertThat(PEEK.appliesTo("5.19.0")).isTrue();
        assertThat(PEEK.appliesTo("6.6.0")).isFalse();
        assertThat(PEEK.appliesTo("6.12.117+deb12-amd64")).isFalse();
        assertThat(PEEK.appliesTo(null)).as("a Java engine").isFalse();
    }

    @Test
    void anOldKernelFailingWithTheSymptomDiffers() {
        Verdict v = Verdict.of(7, MARKED, "server: SocketException EOPNOTSUPP: Operation not supported", "6.1.0-57-amd64", 12);
        assertThat(v.outcome()).isEqualTo(Verdict.Outcome.DIFFERS);
        assertThat(v.line()).startsWith("DIFFERS 7 marked (12 ms): differs on Linux before 6.6: no SEQPACKET peek: server:");
    }

    @Test
    void anOldKernelFailingOtherwiseOrPassingFails() {
        assertThat(Verdict.of(7, MARKED, "client: timed out", "6.1.0-57-amd64", 1).outcome()).isEqualTo(Verdict.Outcome.FAIL);
        Verdict passed = Verdict.of(7, MARKED, null, "6.1.0-57-amd64", 1);
        assertThat(passed.outcome()).isEqualTo(Verdict.Outcome.FAIL);
        assertThat(passed.reason()).contains("stale");
    }

    @Test
    void acrossTwoProvidersOnlyTheKernelRunningTheHalfThatShowsItCounts() {
        Target kernelClient = new Target(null, null, 2, null, "6.1.0-57-amd64");
        Target kernelServer = new Target(null, null, 3, "6.1.0-57-amd64", null);
        assertThat(kernelClient.kernelShowing(MARKED)).as("the peek is the server's; a Java engine serves").isNull();
        assertThat(kernelServer.kernelShowing(MARKED)).isEqualTo("6.1.0-57-amd64");
        assertThat(kernelClient.withPeerKernel(false, "6.1.0-57-amd64").kernelShowing(MARKED)).isEqualTo("6.1.0-57-amd64");
    }

    @Test
    void aCurrentKernelOrAJavaEngineMustPass() {
        assertThat(Verdict.of(7, MARKED, null, "6.12.117+deb12-amd64", 1).outcome()).isEqualTo(Verdict.Outcome.PASS);
        assertThat(Verdict.of(7, MARKED, "server: EOPNOTSUPP", null, 1).outcome()).isEqualTo(Verdict.Outcome.FAIL);
    }
}
