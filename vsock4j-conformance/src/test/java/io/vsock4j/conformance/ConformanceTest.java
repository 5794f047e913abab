package io.vsock4j.conformance;

import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conformance suite on every transport, a test per case per transport ("java loopback: stream:
 * ..."), so the report shows which transport fails which case. In-process transports run each case on
 * fresh machines and check that nothing was left bound or connected; the others (a second JVM, the QEMU
 * guest, the guest's kernel and this JVM across vsock4j's vhost-user-vsock device) run the whole suite
 * once and each case's test reports its line. A transport adds itself to {@link #TRANSPORTS}, one line.
 * {@code -Dvsock4j.conformance.transports=loopback,link} runs only those whose name contains one of the
 * words ({@code across} both directions across the device). The guest runs start together, two at a time
 * on a pool, while the in-process transports run on JUnit's thread. They have no JUnit timeout (dynamic
 * tests have none): run.sh's {@code --timeout} bounds them.
 */
class ConformanceTest {
    /** One guest boot per kernel for both directions across vsock4j's vhost-user-vsock device. */
    private static final AcrossTheDevice ACROSS_6_1 = new AcrossTheDevice("6.1");
    private static final AcrossTheDevice ACROSS_6_12 = new AcrossTheDevice("6.12");
    /** Every transport the suite runs on. */
    private static final List<Transport> TRANSPORTS = List.of(
            new InProcess("java loopback", JavaTargets::loopback),
            new InProcess("link pair (guest G2H to host H2G)", JavaTargets::linkPair),
            new Remote("shared machine, two processes", null, SharedAcrossProcesses::run),
            new Remote("kernel 6.1 in the guest", "6.1", () -> GuestRun.run("6.1")),
            new Remote("kernel 6.12 in the guest", "6.12", () -> GuestRun.run("6.12")),
            ACROSS_6_1.jvmServing(),
            ACROSS_6_1.guestServing(),
            ACROSS_6_12.jvmServing(),
            ACROSS_6_12.guestServing());

    /**
     * Guest runs at once: each keeps one host core busy (QEMU's single emulated CPU thread, see
     * guest/README.md), and CI has two. Run one after another, the four took about 200 of this class's
     * 210 s.
     */
    private static final int GUEST_RUNS_AT_ONCE = 2;

    /** A transport under test: its name and a test per case. */
    interface Transport {
        String name();

        Stream<DynamicTest> tests(List<Case> cases);

        /**
         * Starts the transport's run on {@code guestRuns} now, for those that run in the guest; the rest run
         * in their tests.
         */
        default void startEarly(Executor guestRuns) {
        }
    }

    @TestFactory
    Stream<DynamicContainer> everyCaseOnEveryTransport() {
        List<Case> cases = ConformanceSuite.cases();
        String only = System.getProperty("vsock4j.conformance.transports", "");
        List<String> words = Arrays.stream(only.split(",")).map(String::strip).filter(w -> !w.isEmpty()).toList();
        List<Transport> selected = TRANSPORTS.stream()
                .filter(t -> words.isEmpty() || words.stream().anyMatch(t.name()::contains)).toList();
        assertThat(selected).as("transports matching -Dvsock4j.conformance.transports=" + only).isNotEmpty();
        ExecutorService guestRuns = Executors.newFixedThreadPool(GUEST_RUNS_AT_ONCE,
                Thread.ofPlatform().daemon().name("guest-run-", 1).factory());
        selected.forEach(t -> t.startEarly(guestRuns));
        guestRuns.shutdown(); // what was queued still runs; the threads end after it
        return selected.stream().map(t -> DynamicContainer.dynamicContainer(t.name(), t.tests(cases)));
    }

    /** "transport: case", and the difference when {@code kernelSeries}, the kernel that runs the half it lies in, has it. */
    static String testName(String transport, Case c, String kernelSeries) {
        KernelDifference d = c.difference();
        boolean differs = d != null && d.appliesTo(kernelSeries);
        return transport + ": " + c.name() + (differs ? " [" + d.describe() + "]" : "");
    }

    /** Case numbers 1..n with their cases. */
    static IntStream numbers(List<Case> cases) {
        return IntStream.rangeClosed(1, cases.size());
    }
}
