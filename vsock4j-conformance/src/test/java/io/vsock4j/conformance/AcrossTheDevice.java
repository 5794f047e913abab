package io.vsock4j.conformance;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.link.HostTransport;
import io.vsock4j.transport.loopback.LoopbackTransport;
import io.vsock4j.transport.vhostuser.VhostUserVsock;
import org.junit.jupiter.api.DynamicTest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The suite across vsock4j's vhost-user-vsock device: this JVM runs a host machine (CID 2, an H2G
 * {@link HostTransport} and a loopback) and the device for guest 3, and boots the project's QEMU guest
 * once on it (guest/run.sh --vhost-user-vsock, the Debian kernel of {@link #series}), where
 * {@link SuiteMain} {@code kernel-remote client,server} runs the guest's halves on the guest kernel's
 * AF_VSOCK, whose virtio-vsock driver reaches this JVM through the device. Two directions, one after the
 * other in that one boot: the JVM serves and the guest's kernel is the client, then the guest's kernel
 * serves and the JVM is the client. The guest has no network, so each direction's control connection is
 * vsock too: the guest connects to {@link #CONTROL_PORT} on the host machine (CID 2), the suite's base
 * port minus one. Each direction is a {@link Remote} transport, a test per case, and both end with a test
 * that the host machine kept nothing bound or connected.
 *
 * <p>Every case runs across hosts: none needs CID 1 between its halves (the bind cases bind CID 1 on one
 * side only, a loopback each side has). The run happens once, early on a pool thread
 * ({@link ConformanceTest.Transport#startEarly}) or in whichever test comes first; the tests read its
 * results on JUnit's thread.
 */
final class AcrossTheDevice {
    /** The guest's CID, as the device gives it. */
    static final int GUEST_CID = 3;
    /** Where the guest's {@link SuiteMain} connects for each direction's control lines, on the host machine. */
    static final int CONTROL_PORT = ConformanceSuite.DEFAULT_BASE_PORT - 1;
    /** One guest boot: the boot and a JVM start under TCG (a minute or two), then both directions. */
    private static final int GUEST_TIMEOUT_SECONDS = 900;
    /** Boots in all: the first, and run.sh's --retry-jvm-crash 2. */
    private static final int ATTEMPTS = 3;
    /** How long a closed connection may take to leave the host machine (Linux's close timeout is 8 s). */
    private static final long LEAK_WAIT_MILLIS = 10_000;

    private final String series;
    /** The one boot with both directions; the fields below are written by it and read after {@code boot.get()}. */
    private final RunOnce<Void> boot = new RunOnce<>(() -> {
        run();
        return null;
    });
    /** The outputs: the JVM serving, the guest serving, what was left on the host machine. */
    private String jvmServes;
    private String guestServes;
    private String leftOnHost;

    AcrossTheDevice(String series) {
        this.series = series;
    }

    /** The JVM's server halves, the guest kernel's client halves. */
    ConformanceTest.Transport jvmServing() {
        return transport("kernel " + series + " client in the guest, JVM server, across the device", null, series, true);
    }

    /** The guest kernel's server halves, the JVM's client halves. */
    ConformanceTest.Transport guestServing() {
        return transport("kernel " + series + " server in the guest, JVM client, across the device", series, null, false);
    }

    private ConformanceTest.Transport transport(String name, String serverSeries, String clientSeries, boolean jvmServesIt) {
        Remote remote = new Remote(name, serverSeries, clientSeries, () -> output(jvmServesIt));
        return new ConformanceTest.Transport() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void startEarly(Executor guestRuns) {
                boot.startOn(guestRuns);
            }

            @Override
            public Stream<DynamicTest> tests(List<Case> cases) {
                return Stream.concat(remote.tests(cases), Stream.of(DynamicTest.dynamicTest(
                        name + ": nothing left bound or connected on the JVM's host machine", () -> {
                            output(jvmServesIt);
                            assertThat(leftOnHost).as("left on the host machine after both directions").isNull();
                        })));
            }
        };
    }

    private String output(boolean jvmServesIt) throws Exception {
        boot.get();
        return jvmServesIt ? jvmServes : guestServes;
    }

    private void run() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "across-device-");
        Path socket = dir.resolve("vm" + GUEST_CID + ".sock");
        Path log = dir.resolveSibling("conformance-across-device-" + series + ".log");
        HostTransport h2g = new HostTransport("vhost-user", false);
        try (Machine host = Machine.builder().name("host").transport(h2g).transport(new LoopbackTransport()).build();
             VhostUserVsock device = VhostUserVsock.start(h2g, GUEST_CID, socket);
             VsockServerSocket controls = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, CONTROL_PORT))) {
            Process guest = startGuest(socket, log);
            guest.onExit().thenRun(() -> closeQuietly(controls)); // wakes an accept when the guest is gone
            IOException broken = null;
            try {
                ConformanceSuite suite = new ConformanceSuite(new Target(host, host, GUEST_CID, null, null),
                        ConformanceSuite.DEFAULT_BASE_PORT);
                System.out.println("across the device: " + device + ", guest/run.sh output in " + log);
                bothDirections(suite, controls, guest);
                leftOnHost = leftOn(host, 1); // the control listener
            } catch (IOException e) {
                broken = e;
            } finally {
                if (!guest.waitFor(3L * GUEST_TIMEOUT_SECONDS + 120, TimeUnit.SECONDS)) {
                    guest.destroyForcibly();
                    fail("guest/run.sh did not return; output in " + log);
                }
            }
            String output = Files.readString(log, StandardCharsets.UTF_8);
            if (broken != null) {
                fail("the run broke off (" + broken + "); run.sh exit " + guest.exitValue()
                        + " (125 = did not boot, 124 = timeout); the guest's output:\n" + Remote.tail(output), broken);
            }
            String release = output.lines().filter(l -> l.startsWith("KERNEL ")).findFirst().map(l -> l.substring(7)).orElse(null);
            assertThat(release).as("the guest's kernel (run.sh exit " + guest.exitValue() + ")").startsWith(series + ".");
            // The guest prints the same verdicts; the JVM's are the ones parsed, the guest's follow for the record.
            String guestLines = "\n---- guest ----\n" + output.replaceAll("(?m)^(PASS|FAIL|DIFFERS) ", "guest $1 ");
            jvmServes += guestLines;
            guestServes += guestLines;
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    private Process startGuest(Path socket, Path log) throws IOException {
        String java = GuestRun.JAVA + SuiteMain.class.getName() + " kernel-remote client,server "
                + VsockAddress.CID_HOST + " " + CONTROL_PORT + " " + ConformanceSuite.DEFAULT_BASE_PORT;
        ProcessBuilder pb = new ProcessBuilder(GuestRun.repositoryRoot().resolve("guest/run.sh").toString(),
                "--retry-jvm-crash", Integer.toString(ATTEMPTS - 1), "--timeout", Integer.toString(GUEST_TIMEOUT_SECONDS),
                "--vhost-user-vsock", socket.toString(), "--", "bash", "-c", java, GuestRun.guestClassPath())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("VSOCK4J_GUEST_KERNEL", series);
        return pb.start();
    }

    /**
     * The JVM's halves, serving then as the client, each over the control connection the guest opens. A
     * guest whose JVM crashed boots again (run.sh --retry-jvm-crash) and starts over from the first.
     */
    private void bothDirections(ConformanceSuite suite, VsockServerSocket controls, Process guest) throws Exception {
        controls.setSoTimeout(GUEST_TIMEOUT_SECONDS * 1000);
        for (int attempt = 1; ; attempt++) {
            try {
                jvmServes = oneDirection(suite, controls, true);
                guestServes = oneDirection(suite, controls, false);
                return;
            } catch (IOException e) {
                if (attempt == ATTEMPTS || !guest.isAlive()) {
                    throw e;
                }
                System.out.println("across the device: " + e + "; waiting for the guest to start over");
            }
        }
    }

    private static String oneDirection(ConformanceSuite suite, VsockServerSocket controls, boolean jvmServes)
            throws IOException, InterruptedException {
        VsockSocket control = controls.accept();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            print.println("JVM " + (jvmServes ? "server" : "client") + ", guest control from " + control.getRemoteAddress());
            new RemoteRun(suite, jvmServes).run(control, print, name -> true);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Null when {@code machine} is down to {@code listeners} bound sockets and no connection (waited for), else what is left. */
    private static String leftOn(Machine machine, int listeners) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LEAK_WAIT_MILLIS);
        while ((machine.boundCount() > listeners || machine.connectionCount() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        if (machine.boundCount() <= listeners && machine.connectionCount() == 0) {
            return null;
        }
        return (machine.boundCount() - listeners) + " bound, " + machine.connectionCount() + " connected";
    }

    private static void closeQuietly(VsockServerSocket listener) {
        try {
            listener.close();
        } catch (IOException ignored) {
            // Closing only wakes the accept; the run reports what went wrong.
        }
    }
}
