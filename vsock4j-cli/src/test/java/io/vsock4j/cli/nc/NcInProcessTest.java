package io.vsock4j.cli.nc;

import io.vsock4j.MessageInfo;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSeqpacketServerSocket;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.cli.Stdio;
import io.vsock4j.cli.VsockCommand;
import io.vsock4j.core.Machine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vsock nc} end to end inside one JVM: several nc runs, each through the real command line
 * ({@link VsockCommand#execute}) with its own stdin and stdout, on one Java-loopback machine, so the
 * cases that need several peers (-k, --exec) stay quick. SharedMachineLauncherIT runs two nc processes
 * on the shared machine, CliInGuestIT two on the kernel's loopback inside the QEMU guest.
 */
@Timeout(120)
class NcInProcessTest {
    private Machine machine;
    private ExecutorService threads;

    @BeforeEach
    void start() {
        machine = Machine.loopback();
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stop() throws Exception {
        threads.shutdownNow();
        assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).as("nc threads ended").isTrue();
        machine.close();
    }

    /** One nc run: its stdout and stderr, and the exit code to come. */
    private record Run(Future<Integer> exit, ByteArrayOutputStream out, ByteArrayOutputStream err) {
        int exitCode() throws Exception {
            return exit.get(60, TimeUnit.SECONDS);
        }
    }

    private Run nc(InputStream stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Stdio stdio = new Stdio(stdin, out, new PrintStream(err, true, StandardCharsets.UTF_8));
        String[] full = new String[args.length + 1];
        full[0] = "nc";
        System.arraycopy(args, 0, full, 1, args.length);
        return new Run(threads.submit(() -> VsockCommand.execute(stdio, (choice, name) -> machine, full)), out, err);
    }

    private static InputStream stdin(byte[] bytes) {
        return new ByteArrayInputStream(bytes);
    }

    private static InputStream stdin(String text) {
        return stdin(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Waits until the listener has bound its port. */
    private void awaitListening(int sockets) throws InterruptedException {
        for (int i = 0; i < 500 && machine.boundCount() < sockets; i++) {
            Thread.sleep(10);
        }
        assertThat(machine.boundCount()).as("listening sockets").isGreaterThanOrEqualTo(sockets);
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    @Test
    void tenMegabytesOfRandomBinaryEachWayArriveIntact() throws Exception {
        byte[] toClient = new byte[10 << 20];
        byte[] toServer = new byte[10 << 20];
        new Random(1).nextBytes(toClient);
        new Random(2).nextBytes(toServer);

        Run server = nc(stdin(toClient), "-l", "5000");
        awaitListening(1);
        Run client = nc(stdin(toServer), "1", "5000");

        assertThat(client.exitCode()).as(client.err().toString()).isZero();
        assertThat(server.exitCode()).as(server.err().toString()).isZero();
        assertThat(sha256(server.out().toByteArray())).isEqualTo(sha256(toServer));
        assertThat(sha256(client.out().toByteArray())).isEqualTo(sha256(toClient));
        assertThat(client.err().size() + server.err().size()).isZero();
    }

    @Test
    void stdinEofHalfClosesAndTheReplyStillArrives() throws Exception {
        // The server answers only after the client's EOF: it runs a command that reads all, then writes.
        Run server = nc(stdin(""), "-l", "--exec", "wc -c", "5001");
        awaitListening(1);
        Run client = nc(stdin("twelve bytes"), "1", "5001");
        assertThat(client.exitCode()).isZero();
        assertThat(client.out().toString(StandardCharsets.UTF_8).trim()).isEqualTo("12");
        assertThat(server.exitCode()).isZero();
    }

    @Test
    void keepOpenServesThreeClientsInARow() throws Exception {
        Run server = nc(stdin(""), "-l", "-k", "5002");
        awaitListening(1);
        for (String name : List.of("first\n", "second\n", "third\n")) {
            Run client = nc(stdin(name), "1", "5002");
            assertThat(client.exitCode()).as(client.err().toString()).isZero();
            assertThat(client.out().size()).as("the server's stdin is empty: EOF only").isZero();
        }
        // A client exits once its bytes are sent and the server's EOF arrived (the server's stdin is
        // empty); the server may still be copying the last client's bytes to its stdout.
        for (int i = 0; i < 500 && !server.out().toString(StandardCharsets.UTF_8).endsWith("third\n"); i++) {
            Thread.sleep(10);
        }
        assertThat(server.exit().isDone()).as("-k listener still running").isFalse();
        assertThat(server.out().toString(StandardCharsets.UTF_8)).isEqualTo("first\nsecond\nthird\n");
        server.exit().cancel(true); // interrupts accept: the in-process way to stop a -k listener
    }

    @Test
    void execRunsOneProcessPerConnection() throws Exception {
        Run server = nc(stdin(""), "-l", "-k", "--exec", "echo pid $$; tr a-z A-Z", "5003");
        awaitListening(1);
        List<String> pids = new ArrayList<>();
        for (String word : List.of("alpha", "beta", "gamma")) {
            Run client = nc(stdin(word + "\n"), "1", "5003");
            assertThat(client.exitCode()).as(client.err().toString()).isZero();
            String[] lines = client.out().toString(StandardCharsets.UTF_8).split("\n");
            assertThat(lines).hasSize(2);
            assertThat(lines[0]).startsWith("pid ");
            assertThat(lines[1]).isEqualTo(word.toUpperCase());
            pids.add(lines[0]);
        }
        assertThat(pids).doesNotHaveDuplicates();
        server.exit().cancel(true);
    }

    @Test
    void seqpacketSendsEachLineAsOneMessage() throws Exception {
        try (VsockSeqpacketServerSocket listener = VsockSeqpacketServerSocket.bind(machine, VsockAddress.of(-1, 5004))) {
            Run client = nc(stdin("one\ntwo words\n\nlast without newline"), "--seqpacket", "1", "5004");
            List<String> messages = new ArrayList<>();
            try (VsockSeqpacketSocket peer = listener.accept()) {
                byte[] buf = new byte[1024];
                MessageInfo info = new MessageInfo();
                int n;
                while ((n = peer.receive(buf, 0, buf.length, 0, info)) >= 0) {
                    messages.add(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
                peer.send("reply one".getBytes(StandardCharsets.UTF_8));
                peer.send("reply\ttwo".getBytes(StandardCharsets.UTF_8));
            }
            // An empty line is a zero-length message, which SEQPACKET does not send (as in Linux).
            assertThat(messages).containsExactly("one", "two words", "last without newline");
            assertThat(client.exitCode()).as(client.err().toString()).isZero();
            assertThat(client.out().toString(StandardCharsets.UTF_8)).isEqualTo("reply one\nreply\ttwo\n");
        }
    }

    @Test
    void seqpacketListenerWritesEachMessageAsOneLine() throws Exception {
        Run server = nc(stdin("from server\n"), "-l", "--seqpacket", "5005");
        awaitListening(1);
        List<String> got = new ArrayList<>();
        try (VsockSeqpacketSocket s = VsockSeqpacketSocket.connect(machine, VsockAddress.local(5005))) {
            s.send("a".getBytes(StandardCharsets.UTF_8));
            s.send("bc\u0000d".getBytes(StandardCharsets.UTF_8));
            s.shutdownOutput();
            byte[] buf = new byte[64];
            int n;
            while ((n = s.receive(buf)) >= 0) {
                got.add(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
        }
        assertThat(server.exitCode()).isZero();
        assertThat(server.out().toString(StandardCharsets.UTF_8)).isEqualTo("a\nbc\u0000d\n");
        assertThat(got).containsExactly("from server");
    }

    @Test
    void aRefusedConnectIsOneLineNamingTheErrnoAndExitCodeOne() throws Exception {
        Run client = nc(stdin(""), "1", "5006");
        assertThat(client.exitCode()).isEqualTo(1);
        String err = client.err().toString(StandardCharsets.UTF_8);
        assertThat(err).startsWith("vsock nc: ECONNRESET").endsWith("\n");
        assertThat(err.strip()).doesNotContain("\n");
    }

    @Test
    void aPortInUseIsOneLineNamingTheErrno() throws Exception {
        Run first = nc(stdin(""), "-l", "-k", "5007");
        awaitListening(1);
        Run second = nc(stdin(""), "-l", "5007");
        assertThat(second.exitCode()).isEqualTo(1);
        assertThat(second.err().toString(StandardCharsets.UTF_8)).startsWith("vsock nc: EADDRINUSE");
        first.exit().cancel(true);
    }
}
