package io.vsock4j.cli.proxy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vsock4j.cli.Stdio;
import io.vsock4j.cli.VsockCommand;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real HTTP client through both proxies, each run by its command line ({@link VsockCommand#execute}) on
 * this JVM's Java-loopback machine: curl -> {@code vsock proxy --tcp-listen} -> vsock ->
 * {@code vsock proxy LOCAL_PORT 127.0.0.1 PORT} -> an HTTP server in the test. 100 MB each way by SHA-256,
 * and 50 curls at once. The commands stop when their threads are interrupted.
 */
@Timeout(300)
class ProxyCurlTest {
    private static final int VSOCK_PORT = 7100;
    private static final long BIG = 100_000_000L;
    private static final Pattern TCP_PORT = Pattern.compile("vsock proxy: tcp \\S*:(\\d+) ->");

    @TempDir
    Path dir;

    private Machine machine;
    private ExecutorService threads;
    private HttpServer http;

    @BeforeEach
    void start() throws IOException {
        machine = Machines.loopback();
        threads = Executors.newCachedThreadPool();
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        http.setExecutor(threads);
        http.createContext("/big", x -> respond(x, BIG, out -> generate(BIG, 1, out)));
        http.createContext("/upload", x -> {
            byte[] sha = sha256(x.getRequestBody());
            byte[] hex = HexFormat.of().formatHex(sha).getBytes(StandardCharsets.US_ASCII);
            respond(x, hex.length, out -> out.write(hex));
        });
        http.createContext("/small", x -> {
            byte[] body = small(Integer.parseInt(x.getRequestURI().getQuery()));
            respond(x, body.length, out -> out.write(body));
        });
        http.start();
    }

    @AfterEach
    void stop() throws Exception {
        http.stop(0);
        threads.shutdownNow();
        assertThat(threads.awaitTermination(20, TimeUnit.SECONDS)).as("proxy commands and server ended").isTrue();
        machine.close();
    }

    private interface Body {
        void write(OutputStream out) throws IOException;
    }

    private static void respond(HttpExchange x, long length, Body body) throws IOException {
        try (x) {
            x.sendResponseHeaders(200, length);
            try (OutputStream out = x.getResponseBody()) {
                body.write(out);
            }
        }
    }

    /** {@code bytes} of a fixed pseudo-random stream chosen by {@code seed}. */
    private static void generate(long bytes, long seed, OutputStream out) throws IOException {
        Random r = new Random(seed);
        byte[] chunk = new byte[64 << 10];
        for (long left = bytes; left > 0; left -= chunk.length) {
            r.nextBytes(chunk);
            out.write(chunk, 0, (int) Math.min(chunk.length, left));
        }
    }

    private static byte[] small(int i) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        generate(100_000 + i, 1000 + i, b);
        return b.toByteArray();
    }

    private static byte[] sha256(InputStream in) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 << 10];
            int n;
            while ((n = in.read(buf)) >= 0) {
                md.update(buf, 0, n);
            }
            return md.digest();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] expectedSha(long bytes, long seed) throws IOException {
        java.security.DigestOutputStream d;
        try {
            d = new java.security.DigestOutputStream(OutputStream.nullOutputStream(), MessageDigest.getInstance("SHA-256"));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        generate(bytes, seed, d);
        return d.getMessageDigest().digest();
    }

    /** Starts one {@code vsock ...} command on a test thread; its stderr collects in {@code err}. */
    private Future<Integer> command(ByteArrayOutputStream err, String... args) {
        Stdio stdio = new Stdio(new ByteArrayInputStream(new byte[0]), OutputStream.nullOutputStream(),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return threads.submit(() -> VsockCommand.execute(stdio, (choice, name) -> machine, args));
    }

    /** Both proxies running; returns the TCP port curl connects to. */
    private int proxies() throws Exception {
        Path config = dir.resolve("allow.yaml");
        Files.writeString(config, "allowlist:\n- {address: 127.0.0.1, port: " + http.getAddress().getPort() + "}\n");
        ByteArrayOutputStream toTcpErr = new ByteArrayOutputStream();
        ByteArrayOutputStream toVsockErr = new ByteArrayOutputStream();
        Future<Integer> toTcp = command(toTcpErr, "proxy", "-w", "16", "--config", config.toString(),
                String.valueOf(VSOCK_PORT), "127.0.0.1", String.valueOf(http.getAddress().getPort()));
        Future<Integer> toVsock = command(toVsockErr, "proxy", "-w", "16", "--tcp-listen", "127.0.0.1:0", "--to", "1:" + VSOCK_PORT);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String port = null;
        while (port == null && System.nanoTime() < deadline) {
            assertThat(toTcp.isDone()).as("vsock-to-TCP proxy running: " + toTcpErr).isFalse();
            assertThat(toVsock.isDone()).as("TCP-to-vsock proxy running: " + toVsockErr).isFalse();
            Matcher m = TCP_PORT.matcher(toVsockErr.toString(StandardCharsets.UTF_8));
            if (m.find() && toTcpErr.toString(StandardCharsets.UTF_8).startsWith("vsock proxy: vsock")) {
                port = m.group(1);
            } else {
                Thread.sleep(10);
            }
        }
        assertThat(port).as("both proxies listening: " + toTcpErr + toVsockErr).isNotNull();
        return Integer.parseInt(port);
    }

    private static Process curl(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--fail", "--max-time", "120", "-H", "Expect:"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    @Test
    void curlMovesAHundredMegabytesEachWayIntact() throws Exception {
        int port = proxies();
        Process get = curl("http://127.0.0.1:" + port + "/big");
        byte[] got = sha256(get.getInputStream());
        assertThat(get.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(get.exitValue()).as("curl's exit").isZero();
        assertThat(HexFormat.of().formatHex(got)).isEqualTo(HexFormat.of().formatHex(expectedSha(BIG, 1)));

        Path upload = dir.resolve("upload.bin");
        try (OutputStream out = Files.newOutputStream(upload)) {
            generate(BIG, 2, out);
        }
        Process post = curl("--data-binary", "@" + upload, "http://127.0.0.1:" + port + "/upload");
        String answer = new String(post.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(post.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(post.exitValue()).as("curl's exit").isZero();
        assertThat(answer).isEqualTo(HexFormat.of().formatHex(expectedSha(BIG, 2)));
    }

    @Test
    void fiftyCurlsAtOnceEachGetTheirOwnAnswer() throws Exception {
        int port = proxies();
        List<Process> curls = new ArrayList<>();
        List<Future<byte[]>> bodies = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            Process p = curl("http://127.0.0.1:" + port + "/small?" + i);
            curls.add(p);
            bodies.add(threads.submit(() -> p.getInputStream().readAllBytes()));
        }
        for (int i = 0; i < 50; i++) {
            assertThat(curls.get(i).waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(curls.get(i).exitValue()).as("curl " + i + "'s exit").isZero();
            assertThat(bodies.get(i).get(10, TimeUnit.SECONDS)).as("curl " + i + "'s body").isEqualTo(small(i));
        }
    }
}
