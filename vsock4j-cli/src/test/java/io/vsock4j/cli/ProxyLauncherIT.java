package io.vsock4j.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vsock proxy} as processes of the real launcher, on a shared machine of this test's own name:
 * curl -> a {@code --tcp-listen} proxy process -> the shared machine -> a vsock-to-TCP proxy process -> an
 * HTTP server in the test. A download arrives intact; killing the vsock-to-TCP process (SIGKILL) in the
 * middle of a download ends curl's connection within seconds, and SIGTERM stops a proxy.
 */
@Timeout(300) // the launcher's first use may build the project
class ProxyLauncherIT {
    private static final Path LAUNCHER = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath();
    private static final String MACHINE = "proxy-it-" + ProcessHandle.current().pid();
    private static final Pattern TCP_PORT = Pattern.compile("vsock proxy: tcp \\S*:(\\d+) ->");
    private static final int VSOCK_PORT = 7300;
    private static final long DOWNLOAD = 20L << 20;

    private HttpServer http;
    private ExecutorService threads;
    private final List<Process> processes = new ArrayList<>();
    private Path dir;

    @BeforeEach
    void start() throws IOException {
        dir = Files.createDirectories(Path.of("target", "proxy-it").toAbsolutePath());
        threads = Executors.newCachedThreadPool();
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        http.setExecutor(threads);
        http.createContext("/download", x -> send(x, DOWNLOAD));
        http.createContext("/endless", x -> send(x, Long.MAX_VALUE));
        http.start();
    }

    @AfterEach
    void stop() throws Exception {
        processes.forEach(Process::destroyForcibly);
        for (Process p : processes) {
            p.waitFor(20, TimeUnit.SECONDS);
        }
        http.stop(0);
        threads.shutdownNow();
    }

    @AfterAll
    static void removeMachineDirectory() throws Exception {
        assertThat(MachineDirectories.deleteWhenDaemonExits(MACHINE, Duration.ofSeconds(60)))
                .as("the daemon of machine %s exited after its last process left", MACHINE).isTrue();
    }

    /** {@code bytes} of a fixed pseudo-random stream (chunked when endless), until the client goes. */
    private static void send(HttpExchange x, long bytes) throws IOException {
        try (x) {
            x.sendResponseHeaders(200, bytes == Long.MAX_VALUE ? 0 : bytes);
            OutputStream out = x.getResponseBody();
            Random r = new Random(7);
            byte[] chunk = new byte[64 << 10];
            for (long left = bytes; left > 0; left -= chunk.length) {
                r.nextBytes(chunk);
                out.write(chunk, 0, (int) Math.min(chunk.length, left));
            }
            out.close();
        } catch (IOException clientGone) {
            // the endless download ends so
        }
    }

    private static String expectedSha() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Random r = new Random(7);
        byte[] chunk = new byte[64 << 10];
        for (long left = DOWNLOAD; left > 0; left -= chunk.length) {
            r.nextBytes(chunk);
            md.update(chunk, 0, (int) Math.min(chunk.length, left));
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Starts {@code vsock proxy ARGS} on the test's machine; its stderr goes to {@code name}.err. */
    private Process proxy(String name, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString(), "--transport", "shared", "--machine", MACHINE, "proxy"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(dir.resolve(name + ".err").toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(p);
        return p;
    }

    /** Waits for a proxy's start-up line; returns it. */
    private String started(String name, Process p) throws Exception {
        Path err = dir.resolve(name + ".err");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (System.nanoTime() < deadline) {
            String text = Files.exists(err) ? Files.readString(err, StandardCharsets.UTF_8) : "";
            if (text.startsWith("vsock proxy: ") && text.contains("\n")) {
                return text;
            }
            assertThat(p.isAlive()).as(name + " running: " + text).isTrue();
            Thread.sleep(20);
        }
        throw new AssertionError(name + " did not start");
    }

    /** Both proxies; returns the TCP port curl connects to. */
    private int proxies() throws Exception {
        Path config = dir.resolve("allow.yaml");
        Files.writeString(config, "allowlist:\n- {address: 127.0.0.1, port: " + http.getAddress().getPort() + "}\n");
        Process toTcp = proxy("to-tcp", "--config", config.toString(), String.valueOf(VSOCK_PORT), "127.0.0.1",
                String.valueOf(http.getAddress().getPort()));
        started("to-tcp", toTcp);
        Process toVsock = proxy("to-vsock", "--tcp-listen", "127.0.0.1:0", "--to", "1:" + VSOCK_PORT);
        Matcher m = TCP_PORT.matcher(started("to-vsock", toVsock));
        assertThat(m.find()).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static Process curl(int port, String path) throws IOException {
        return new ProcessBuilder("curl", "-sS", "--max-time", "120", "http://127.0.0.1:" + port + path)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    @Test
    void curlThroughTwoProxyProcessesThenKillingOneEndsTheDownloadAndSigtermStopsTheOther() throws Exception {
        int port = proxies();
        Process download = curl(port, "/download");
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = download.getInputStream()) {
            md.update(in.readAllBytes());
        }
        assertThat(download.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(download.exitValue()).as("curl's exit").isZero();
        assertThat(HexFormat.of().formatHex(md.digest())).isEqualTo(expectedSha());

        Process endless = curl(port, "/endless");
        InputStream in = endless.getInputStream();
        assertThat(in.readNBytes(1 << 20)).hasSize(1 << 20);
        Process toTcp = processes.get(0);
        toTcp.destroyForcibly();
        threads.submit(() -> in.transferTo(OutputStream.nullOutputStream())); // curl must not stall on a full pipe
        assertThat(endless.waitFor(20, TimeUnit.SECONDS)).as("curl's connection closed after the far proxy died").isTrue();
        assertThat(endless.exitValue()).as("curl's exit: the transfer was cut").isNotZero();

        Process toVsock = processes.get(1);
        toVsock.destroy(); // SIGTERM
        assertThat(toVsock.waitFor(20, TimeUnit.SECONDS)).as("SIGTERM stops the proxy").isTrue();
    }
}
