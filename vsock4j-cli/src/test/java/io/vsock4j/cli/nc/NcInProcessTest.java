package io.vsock4j.cli.nc;

import io.vsock4j.machines.Machines;
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
import java.util.concurrent.LinkedBlockingQueue;
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
        machine = Machines.loopback();
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

    /**
     * Waits until {@code sockets} sockets are bound. It counts every bound socket, connected ones too, so
     * a test that listens again after earlier connections first waits for their ports ({@link #awaitNoPorts}).
     */
    private void awaitListening(int sockets) throws InterruptedException {
        for (int i = 0; i < 500 && machine.boundCount() < sockets; i++) {
            Thread.sleep(10);
        }
        assertThat(machine.boundCount()).as("listening sockets").isGreaterThanOrEqualTo(sockets);
    }

    /** Waits until every socket so far has let go of its port (a closing connection holds its port a moment). */
    private void awaitNoPorts() throws InterruptedException {
        for (int i = 0; i < 500 && machine.boundCount() > 0; i++) {
            Thread.sleep(10);
        }
        assertThat(machine.boundCount()).as("ports still bound").isZero();
    }

    /** A stdin that stays open until {@link #close()}, fed by {@link #write}: a terminal, or {@code sleep | nc}. */
    private static final class OpenStdin extends InputStream {
        private static final byte[] EOF = new byte[0];
        private final LinkedBlockingQueue<byte[]> chunks = new LinkedBlockingQueue<>();
        private byte[] chunk = new byte[0];
        private int pos;

        void write(String text) {
            chunks.add(text.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public void close() {
            chunks.add(EOF);
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (chunk == EOF) {
                return -1;
            }
            if (pos == chunk.length) {
                try {
                    chunk = chunks.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return -1;
                }
                pos = 0;
                if (chunk == EOF) {
                    chunks.add(EOF);
                    return -1;
                }
            }
            int n = Math.min(len, chunk.length - pos);
            System.arraycopy(chunk, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    /** Waits until {@code out} holds {@code expected}. */
    private static void awaitOutput(ByteArrayOutputStream out, String expected) throws InterruptedException {
        for (int i = 0; i < 1000 && !out.toString(StandardCharsets.UTF_8).equals(expected); i++) {
            Thread.sleep(10);
        }
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(expected);
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

        // The listener ends at the client's EOF (ncat's rule), so the client must not half-close before
        // the listener's bytes are in: --no-shutdown, and it closes once the listener's EOF came.
        Run server = nc(stdin(toClient), "-l", "5000");
        awaitListening(1);
        Run client = nc(stdin(toServer), "--no-shutdown", "1", "5000");

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
            // The listener's stdin ends, so it half-closes; read that first: our EOF would end its
            // connection at once, whatever it had not sent yet (ncat's rule).
            byte[] buf = new byte[64];
            int n;
            while ((n = s.receive(buf)) >= 0) {
                got.add(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
            s.shutdownOutput();
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

    @Test
    void aListenerWhoseStdinStaysOpenEndsAtTheClientsEofAndSoDoesTheClient() throws Exception {
        OpenStdin serverStdin = new OpenStdin(); // sleep 60 | nc -l
        Run server = nc(serverStdin, "-l", "5010");
        awaitListening(1);
        Run client = nc(stdin("the file\n"), "1", "5010");
        assertThat(server.exitCode()).as(server.err().toString()).isZero();
        assertThat(client.exitCode()).as(client.err().toString()).isZero();
        assertThat(server.out().toString(StandardCharsets.UTF_8)).isEqualTo("the file\n");
        serverStdin.close();
    }

    @Test
    void aClientWhoseStdinStaysOpenWaitsAfterTheListenersEofUntilStdinEnds() throws Exception {
        Run server = nc(stdin("from the listener\n"), "-l", "5011");
        awaitListening(1);
        OpenStdin clientStdin = new OpenStdin();
        Run client = nc(clientStdin, "1", "5011");
        awaitOutput(client.out(), "from the listener\n");
        clientStdin.write("late\n");
        awaitOutput(server.out(), "late\n");
        assertThat(client.exit().isDone()).as("client waits for its stdin").isFalse();
        assertThat(server.exit().isDone()).as("listener waits for the client's EOF").isFalse();
        clientStdin.close();
        assertThat(client.exitCode()).as(client.err().toString()).isZero();
        assertThat(server.exitCode()).as(server.err().toString()).isZero();
    }

    @Test
    void recvOnlyClientEndsAtTheListenersEofWithItsStdinOpen() throws Exception {
        Run server = nc(stdin("served\n"), "-l", "5012");
        awaitListening(1);
        OpenStdin clientStdin = new OpenStdin();
        clientStdin.write("never sent\n");
        Run client = nc(clientStdin, "--recv-only", "1", "5012");
        assertThat(client.exitCode()).as(client.err().toString()).isZero();
        assertThat(client.out().toString(StandardCharsets.UTF_8)).isEqualTo("served\n");
        assertThat(server.exitCode()).as(server.err().toString()).isZero();
        assertThat(server.out().size()).isZero();
    }

    @Test
    void sendOnlyClientEndsAtStdinEofWithoutReading() throws Exception {
        OpenStdin serverStdin = new OpenStdin();
        serverStdin.write("not read by the client\n");
        Run server = nc(serverStdin, "-l", "5013");
        awaitListening(1);
        Run client = nc(stdin("sent\n"), "--send-only", "1", "5013");
        assertThat(client.exitCode()).as(client.err().toString()).isZero();
        assertThat(client.out().size()).isZero();
        assertThat(server.exitCode()).as(server.err().toString()).isZero();
        assertThat(server.out().toString(StandardCharsets.UTF_8)).isEqualTo("sent\n");
        serverStdin.close();
    }

    @Test
    void noShutdownKeepsTheConnectionUntilThePeerHalfCloses() throws Exception {
        OpenStdin serverStdin = new OpenStdin();
        Run server = nc(serverStdin, "-l", "5014");
        awaitListening(1);
        Run client = nc(stdin("no eof follows\n"), "--no-shutdown", "1", "5014");
        awaitOutput(server.out(), "no eof follows\n");
        serverStdin.write("reply\n");
        awaitOutput(client.out(), "reply\n");
        assertThat(server.exit().isDone()).as("listener got no EOF").isFalse();
        assertThat(client.exit().isDone()).as("client got no EOF").isFalse();
        serverStdin.close(); // the listener half-closes; the client, its stdin done, then closes
        assertThat(client.exitCode()).as(client.err().toString()).isZero();
        assertThat(server.exitCode()).as(server.err().toString()).isZero();
    }

    @Test
    void idleTimeoutEndsAClientWithOneAndAListenerWithTwo() throws Exception {
        OpenStdin serverStdin = new OpenStdin();
        Run server = nc(serverStdin, "-l", "-i", "0.3", "5015");
        awaitListening(1);
        OpenStdin clientStdin = new OpenStdin();
        Run client = nc(clientStdin, "-i", "0.2", "1", "5015");
        assertThat(client.exitCode()).isEqualTo(1);
        assertThat(client.err().toString(StandardCharsets.UTF_8)).isEqualTo("vsock nc: idle timeout expired (200 ms)\n");
        // The client's close is the listener's EOF, which ends it first unless its own timer fired.
        int serverExit = server.exitCode();
        assertThat(serverExit).as(server.err().toString()).isIn(0, 2);

        // Else the closing connection above could pass for the next listener, and the client below
        // connect before it listens (seen once in CI: the listener then waited for ever for a client).
        awaitNoPorts();
        Run lone = nc(new OpenStdin(), "-l", "-i", "0.2", "5016");
        awaitListening(1);
        OpenStdin quiet = new OpenStdin();
        Run silent = nc(quiet, "1", "5016");
        assertThat(lone.exitCode()).isEqualTo(2);
        assertThat(lone.err().toString(StandardCharsets.UTF_8)).isEqualTo("vsock nc: idle timeout expired (200 ms)\n");
        quiet.close();
        assertThat(silent.exitCode()).as(silent.err().toString()).isZero();
        serverStdin.close();
        clientStdin.close();
    }

    @Test
    void verboseSaysWhoConnected() throws Exception {
        Run server = nc(stdin(""), "-l", "-v", "5017");
        awaitListening(1);
        Run client = nc(stdin(""), "-v", "1", "5017");
        assertThat(client.exitCode()).isZero();
        assertThat(server.exitCode()).isZero();
        assertThat(server.err().toString(StandardCharsets.UTF_8))
                .matches("vsock nc: listening on any:5017\nvsock nc: connection from [0-9]+:[0-9]+\n");
        assertThat(client.err().toString(StandardCharsets.UTF_8)).isEqualTo("vsock nc: connected to 1:5017\n");
    }

    @Test
    void flagsThatContradictEachOtherAreUsageErrors() throws Exception {
        Run both = nc(stdin(""), "--send-only", "--recv-only", "1", "5018");
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.err().toString(StandardCharsets.UTF_8)).startsWith("vsock nc: --send-only and --recv-only exclude each other");
        Run exec = nc(stdin(""), "-l", "--exec", "cat", "-i", "1", "5018");
        assertThat(exec.exitCode()).isEqualTo(2);
        Run idle = nc(stdin(""), "-i", "0", "1", "5018");
        assertThat(idle.exitCode()).isEqualTo(2);
        assertThat(idle.err().toString(StandardCharsets.UTF_8)).startsWith("vsock nc: --idle-timeout must be a positive");
    }
}
