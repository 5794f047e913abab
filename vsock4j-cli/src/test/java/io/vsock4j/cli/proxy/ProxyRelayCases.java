package io.vsock4j.cli.proxy;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The relay in one JVM: a TCP client, a TCP-to-vsock proxy, a vsock machine ({@link #newMachine()}: the
 * subclasses give this JVM's Java loopback and a shared machine with its daemon), a vsock-to-TCP proxy, a
 * TCP server. Half-close and backpressure both ways, a killed end closing the other,
 * the allowlist checked per connection, and no thread or descriptor left after many connections.
 */
@Timeout(120)
abstract class ProxyRelayCases {
    /** The vsock port the vsock-to-TCP proxy listens on. */
    static final int VSOCK_PORT = 7000;
    private static final int PROMPT_SECONDS = 10;

    private Machine machine;

    /** The machine the proxies' vsock side runs on, for each test. */
    abstract Machine newMachine() throws IOException;

    /** After each test: done with {@link #newMachine()}'s machine (closed unless a subclass keeps it). */
    void release(Machine m) throws IOException {
        m.close();
    }

    /**
     * Where the TCP-to-vsock proxy connects to, and a test's own vsock client, to reach the vsock-to-TCP
     * proxy: that proxy itself on the loopback, or a relay that leads to it (a guest's, across a device).
     */
    VsockAddress relayed() {
        return VsockAddress.of(VsockAddress.CID_LOCAL, VSOCK_PORT);
    }

    /** What the backpressure cases write to a reader that does not read. */
    private static final long BACKPRESSURE_BYTES = 128L << 20;
    /** The most the writer may get written before it is held: every buffer of the path, with room to spare. */
    private static final long BACKPRESSURE_BOUND = 64L << 20;
    private ExecutorService threads;
    private ServerSocket server;
    private final AtomicInteger accepted = new AtomicInteger();
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private Proxy toVsock;
    private Proxy toTcp;

    @BeforeEach
    void start() throws IOException {
        machine = newMachine();
        threads = Executors.newCachedThreadPool();
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void stop() throws Exception {
        for (Proxy p : new Proxy[] {toVsock, toTcp}) {
            if (p != null) {
                p.close();
            }
        }
        server.close();
        threads.shutdownNow();
        assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).as("test threads ended").isTrue();
        release(machine);
    }

    /** Both proxies, the vsock-to-TCP one resolving {@code host} with {@code resolver}; the allowlist is 127.0.0.1:server. */
    private void proxies(String host, Resolver resolver) throws IOException {
        PrintStream err = new PrintStream(log, true, StandardCharsets.UTF_8);
        Allowlist allowlist = new Allowlist("test", List.of(new Allowlist.Entry("127.0.0.1", server.getLocalPort())));
        toTcp = new Proxy(Inbound.vsock(machine, VSOCK_PORT),
                Outbound.tcp(host, server.getLocalPort(), allowlist, resolver, Resolver.Family.ANY, 5000), 8, err).start();
        toVsock = new Proxy(Inbound.tcp(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
                Outbound.vsock(machine, relayed()), 8, err).start();
    }

    private void proxies() throws IOException {
        proxies("127.0.0.1", Resolver.system());
    }

    /** A client whose reads give up after {@link #PROMPT_SECONDS}, so a missing EOF fails fast. */
    private Socket client() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), toVsock.port());
        s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(PROMPT_SECONDS));
        return s;
    }

    /** The server's next connection, handled by {@code handler} on a test thread. */
    private <T> Future<T> serve(SocketHandler<T> handler) {
        return threads.submit(() -> {
            try (Socket s = server.accept()) {
                accepted.incrementAndGet();
                s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(60));
                return handler.handle(s);
            }
        });
    }

    @FunctionalInterface
    private interface SocketHandler<T> {
        T handle(Socket s) throws Exception;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PROMPT_SECONDS);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(condition.getAsBoolean()).as(what + " (threads now " + threadNames() + ")").isTrue();
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void clientsHalfCloseReachesTheServerWhichStillAnswers() throws Exception {
        proxies();
        Future<String> heard = serve(s -> {
            String request = text(s.getInputStream().readAllBytes()); // ends only at the client's FIN
            s.getOutputStream().write(("got " + request).getBytes(StandardCharsets.UTF_8));
            return request;
        });
        try (Socket c = client()) {
            c.getOutputStream().write("request".getBytes(StandardCharsets.UTF_8));
            c.shutdownOutput();
            assertThat(text(c.getInputStream().readAllBytes())).isEqualTo("got request");
        }
        assertThat(heard.get(PROMPT_SECONDS, TimeUnit.SECONDS)).isEqualTo("request");
    }

    @Test
    void serversHalfCloseReachesTheClientWhichStillSends() throws Exception {
        proxies();
        Future<String> heard = serve(s -> {
            s.getOutputStream().write("banner".getBytes(StandardCharsets.UTF_8));
            s.shutdownOutput();
            return text(s.getInputStream().readAllBytes());
        });
        try (Socket c = client()) {
            assertThat(text(c.getInputStream().readAllBytes())).as("up to the server's FIN").isEqualTo("banner");
            c.getOutputStream().write("after your EOF".getBytes(StandardCharsets.UTF_8));
            c.shutdownOutput();
            assertThat(heard.get(PROMPT_SECONDS, TimeUnit.SECONDS)).isEqualTo("after your EOF");
            assertThat(c.getInputStream().read()).as("closed once both directions ended").isEqualTo(-1);
        }
    }

    /**
     * {@link #BACKPRESSURE_BYTES} of random data to a reader that does not read: the writer stops with
     * less than {@link #BACKPRESSURE_BOUND} written, then, once the reader reads, all of it arrives (length
     * and SHA-256 as sent) followed by the writer's end-of-stream.
     */
    private void backpressure(boolean clientWrites) throws Exception {
        proxies();
        long total = BACKPRESSURE_BYTES;
        AtomicLong written = new AtomicLong();
        java.util.concurrent.CountDownLatch readNow = new java.util.concurrent.CountDownLatch(1);
        Future<Sent> serverSide = serve(s -> clientWrites ? drainAfter(readNow, s.getInputStream()) : fill(s.getOutputStream(), total, written));
        try (Socket c = client()) {
            Future<Sent> clientSide = threads.submit(() -> clientWrites ? fill(c.getOutputStream(), total, written)
                    : drainAfter(readNow, c.getInputStream()));
            Future<Sent> writer = clientWrites ? clientSide : serverSide;
            await("the writer started", () -> written.get() > 0);
            long last = -1;
            while (written.get() != last) { // until the writer makes no progress for 300 ms
                last = written.get();
                Thread.sleep(300);
            }
            assertThat(writer.isDone()).as("the writer is held back").isFalse();
            assertThat(written.get()).as("bytes in flight to a reader that does not read").isLessThan(BACKPRESSURE_BOUND);
            System.out.printf("%s: the %s held at %d bytes written%n", getClass().getSimpleName(), clientWrites ? "client" : "server", written.get());
            readNow.countDown();
            Sent read = (clientWrites ? serverSide : clientSide).get(60, TimeUnit.SECONDS);
            Sent sent = writer.get(PROMPT_SECONDS, TimeUnit.SECONDS);
            assertThat(sent.bytes()).isEqualTo(total);
            assertThat(read).as("what the reader got, to its end-of-stream").isEqualTo(sent);
        }
    }

    /** A byte count and the SHA-256 of those bytes, in hex. */
    private record Sent(long bytes, String sha256) {
    }

    private static java.security.MessageDigest sha256() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static Sent fill(OutputStream out, long total, AtomicLong written) throws IOException {
        byte[] chunk = new byte[16 << 10];
        java.util.Random random = new java.util.Random(total);
        java.security.MessageDigest sha = sha256();
        while (written.get() < total) {
            random.nextBytes(chunk);
            sha.update(chunk);
            out.write(chunk);
            written.addAndGet(chunk.length);
        }
        out.close(); // closes the socket: everything was written and nothing came in, so the peer sees FIN
        return new Sent(written.get(), java.util.HexFormat.of().formatHex(sha.digest()));
    }

    private static Sent drainAfter(java.util.concurrent.CountDownLatch start, InputStream in) throws Exception {
        start.await();
        java.security.MessageDigest sha = sha256();
        byte[] buf = new byte[64 << 10];
        long n = 0;
        for (int r; (r = in.read(buf)) >= 0; n += r) {
            sha.update(buf, 0, r);
        }
        return new Sent(n, java.util.HexFormat.of().formatHex(sha.digest()));
    }

    @Test
    void aReaderThatStopsStopsTheClientSender() throws Exception {
        backpressure(true);
    }

    @Test
    void aReaderThatStopsStopsTheServerSender() throws Exception {
        backpressure(false);
    }

    /** Writes until the write fails; returns the failure. */
    private static IOException writeUntilClosed(OutputStream out) {
        byte[] chunk = new byte[16 << 10];
        try {
            while (true) {
                out.write(chunk);
            }
        } catch (IOException e) {
            return e;
        }
    }

    private static void kill(Socket s) throws IOException {
        s.setSoLinger(true, 0); // RST, as when the process dies with data unread
        s.close();
    }

    @Test
    void killingTheClientMidStreamClosesTheServersConnection() throws Exception {
        proxies();
        Future<IOException> serverWrites = serve(s -> writeUntilClosed(s.getOutputStream()));
        Socket c = client();
        c.getInputStream().readNBytes(1 << 20);
        kill(c);
        assertThat(serverWrites.get(PROMPT_SECONDS, TimeUnit.SECONDS)).isNotNull();
        await("both proxies closed the connection", () -> toVsock.openConnections() == 0 && toTcp.openConnections() == 0);
    }

    @Test
    void killingTheServerMidStreamClosesTheClientsConnection() throws Exception {
        proxies();
        Future<Void> serverReads = serve(s -> {
            s.getInputStream().readNBytes(1 << 20);
            kill(s);
            return null;
        });
        try (Socket c = client()) {
            Future<IOException> clientWrites = threads.submit(() -> writeUntilClosed(c.getOutputStream()));
            serverReads.get(PROMPT_SECONDS, TimeUnit.SECONDS);
            assertThat(clientWrites.get(PROMPT_SECONDS, TimeUnit.SECONDS)).isNotNull();
        }
        await("both proxies closed the connection", () -> toVsock.openConnections() == 0 && toTcp.openConnections() == 0);
    }

    @Test
    void aListedNameNowResolvingToAnUnlistedAddressIsRefusedAndLeavesNothingOpen() throws Exception {
        AtomicReference<String> address = new AtomicReference<>("127.0.0.1");
        proxies("svc.test", host -> List.of(InetAddress.ofLiteral(address.get())));
        serve(s -> {
            s.getInputStream().transferTo(s.getOutputStream());
            return null;
        });
        try (VsockSocket v = VsockSocket.connect(machine, relayed())) {
            v.getOutputStream().write("ping".getBytes(StandardCharsets.UTF_8));
            v.shutdownOutput();
            assertThat(text(v.getInputStream().readAllBytes())).isEqualTo("ping");
        }
        await("first connection closed", () -> toTcp.openConnections() == 0);
        long fds = openFds();

        address.set("10.9.9.9");
        assertThat(connectAndRead()).as("the refused connection is closed at once").isEqualTo(-1);
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("svc.test:" + server.getLocalPort() + " is not on the allowlist")
                .contains("10.9.9.9");
        assertThat(accepted.get()).as("no TCP connection for the refused one").isEqualTo(1);
        await("nothing open after the refusal", () -> toTcp.openConnections() == 0 && openFds() == fds);
    }

    /** Connects to the vsock-to-TCP proxy and reads: -1 for EOF or a reset, in connect (the proxy closed before it returned) or read. */
    private int connectAndRead() {
        try (VsockSocket v = VsockSocket.connect(machine, relayed())) {
            return v.getInputStream().read();
        } catch (IOException reset) {
            return -1;
        }
    }

    /** The leak check's connection count: 1,000 here; a subclass where each is slow may check fewer. */
    int leakCheckConnections() {
        return 1000;
    }

    /** Whether the leak check closes the machine first (see {@link #connectionsLeaveNoThreadOrDescriptor}). */
    boolean leakCheckClosesMachine() {
        return true;
    }

    @Test
    void manyConnectionsLeaveNoThreadOrDescriptor() throws Exception {
        connectionsLeaveNoThreadOrDescriptor(leakCheckConnections(), leakCheckClosesMachine());
    }

    /**
     * {@code n} connections one after another, each echoed; then no connection open, no port bound, and
     * this JVM's threads and descriptors back to what they were. {@code closeMachine}: close the machine
     * first, which ends the timer it starts on first use; a machine that outlives the test (and was used
     * before it) keeps its timer, which is then in the baseline.
     */
    void connectionsLeaveNoThreadOrDescriptor(int n, boolean closeMachine) throws Exception {
        Future<Void> echo = threads.submit(() -> {
            for (int i = 0; i < n; i++) {
                try (Socket s = server.accept()) {
                    s.getInputStream().transferTo(s.getOutputStream());
                }
            }
            return null;
        });
        List<String> namesBefore = threadNames();
        long threadsBefore = liveThreads();
        long fdsBefore = openFds();
        proxies();
        for (int i = 0; i < n; i++) {
            echoThrough(i);
        }
        echo.get(PROMPT_SECONDS, TimeUnit.SECONDS);
        await("no connection open", () -> toVsock.openConnections() == 0 && toTcp.openConnections() == 0);
        closeProxies();
        await("no vsock port bound", () -> machine.boundCount() == 0);
        if (closeMachine) {
            machine.close(); // and with it the timer it starts on first use, once per machine
        }
        await("threads back to " + namesBefore, () -> liveThreads() <= threadsBefore);
        await("descriptors back to " + fdsBefore, () -> openFds() <= fdsBefore);
    }

    private void echoThrough(int i) throws IOException {
        try (Socket c = client()) {
            byte[] msg = ("connection " + i).getBytes(StandardCharsets.UTF_8);
            c.getOutputStream().write(msg);
            c.shutdownOutput();
            assertThat(c.getInputStream().readAllBytes()).isEqualTo(msg);
        }
    }

    private void closeProxies() {
        toVsock.close();
        toTcp.close();
        toVsock = null;
        toTcp = null;
    }

    private static List<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName).sorted().toList();
    }

    private static long liveThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).count();
    }

    private static long openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
