package io.vsock4j.conformance;

import io.vsock4j.core.Machine;
import io.vsock4j.transport.shared.SharedMachine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The suite across two processes on one shared machine: a second JVM ({@link SuiteMain}) runs the server
 * halves, this one the client halves, both joined to a machine whose rendezvous directory is made for
 * this run alone (so parallel builds never meet), in step over the TCP control channel as
 * {@code vsock test --mode server|client} runs. Returns both sides' output. Stateless.
 */
final class SharedAcrossProcesses {
    private static final long RUN_TIMEOUT_SECONDS = 300;

    private SharedAcrossProcesses() {
    }

    static String run() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "shared-machine-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        int controlPort = freeTcpPort();
        Path serverLog = dir.resolveSibling(dir.getFileName() + "-server.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process server = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", classPath,
                SuiteMain.class.getName(), "shared", dir.toString(), "server", Integer.toString(controlPort),
                Integer.toString(ConformanceSuite.DEFAULT_BASE_PORT))
                .redirectErrorStream(true).redirectOutput(serverLog.toFile()).start();
        ByteArrayOutputStream clientOut = new ByteArrayOutputStream();
        try (Machine machine = SharedMachine.connect(dir, SuiteMain.DAEMON_IDLE_EXIT)) {
            ConformanceSuite suite = new ConformanceSuite(Target.loopback(machine), ConformanceSuite.DEFAULT_BASE_PORT);
            try (PrintStream out = new PrintStream(clientOut, true, StandardCharsets.UTF_8)) {
                new RemoteRun(suite, false).run(RemoteRun.connectControl(new InetSocketAddress("127.0.0.1", controlPort)),
                        out, name -> true);
            }
            assertThat(server.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("the server JVM ended").isTrue();
            assertNothingLeft(machine);
        } finally {
            server.destroyForcibly();
            deleteWhenDaemonExits(dir);
        }
        String serverOut = Files.readString(serverLog, StandardCharsets.UTF_8);
        Files.deleteIfExists(serverLog);
        String client = clientOut.toString(StandardCharsets.UTF_8);
        // Both sides print the same verdicts; the client's are the ones parsed, the server's follow for the record.
        return client + "\n---- server JVM ----\n" + serverOut.replaceAll("(?m)^(PASS|FAIL|DIFFERS) ", "server $1 ");
    }

    private static void assertNothingLeft(Machine machine) throws InterruptedException {
        for (int i = 0; i < 1000 && (machine.boundCount() > 0 || machine.connectionCount() > 0); i++) {
            Thread.sleep(5);
        }
        assertThat(machine.boundCount()).as("sockets left bound on the shared machine").isZero();
        assertThat(machine.connectionCount()).as("connections left on the shared machine").isZero();
    }

    private static int freeTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Removes the rendezvous directory once its daemon has gone (it exits soon after its last process). */
    private static void deleteWhenDaemonExits(Path dir) throws IOException, InterruptedException {
        Path lock = dir.resolve("daemon.lock");
        for (int i = 0; i < 200 && Files.exists(lock); i++) {
            try (var ch = java.nio.channels.FileChannel.open(lock, java.nio.file.StandardOpenOption.WRITE);
                 var held = ch.tryLock()) {
                if (held != null) {
                    break;
                }
            }
            Thread.sleep(50);
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }

}
