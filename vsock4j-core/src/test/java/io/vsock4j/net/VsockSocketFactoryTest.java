package io.vsock4j.net;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link VsockSocketFactory} on the Java loopback: plain {@link Socket}s that connect over vsock, both
 * address conventions, the errors a client meets, and OkHttp (a real client that takes a socket
 * factory) doing GET and a 1 MiB POST against a small HTTP/1.1 server on a {@link VsockServerSocket}.
 *
 * <p>Threads: the test thread is the client; the server accepts on a virtual thread and serves each
 * connection on another.
 */
@Timeout(60)
class VsockSocketFactoryTest {
    private static final int HTTP_PORT = 8080;
    private static final int ECHO_PORT = 7000;

    private Machine machine;
    private VsockServerSocket http;
    private VsockServerSocket echo;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    @BeforeEach
    void start() throws IOException {
        machine = Machines.loopback();
        http = VsockServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, HTTP_PORT));
        echo = VsockServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, ECHO_PORT));
        threads.submit(() -> acceptLoop(http, VsockSocketFactoryTest::serveHttp));
        threads.submit(() -> acceptLoop(echo, VsockSocketFactoryTest::serveEcho));
    }

    @AfterEach
    void stop() throws IOException {
        http.close();
        echo.close();
        threads.shutdownNow();
        machine.close();
    }

    @Test
    void aFixedCidFactoryConnectsAnyHostToThatCidAtTheAskedPort() throws IOException {
        try (Socket s = VsockSocketFactory.toCid(machine, VsockAddress.CID_LOCAL).createSocket("localhost", ECHO_PORT)) {
            assertThat(s.isConnected()).isTrue();
            assertThat(s.getPort()).isEqualTo(ECHO_PORT);
            assertThat(s.getInetAddress()).isNotNull();
            s.getOutputStream().write("hello over vsock".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("hello over vsock");
        }
    }

    @Test
    void aHostNameFactoryReadsTheCidFromVsockCidNames() throws IOException {
        VsockSocketFactory factory = VsockSocketFactory.byHostName(machine);
        for (String host : new String[] {"vsock-1", "VSOCK-LOCAL", "vsock-1."}) {
            try (Socket s = factory.createSocket(host, ECHO_PORT)) {
                s.getOutputStream().write(1);
                s.shutdownOutput();
                assertThat(s.getInputStream().readAllBytes()).as(host).containsExactly(1);
                assertThat(s.getInetAddress().getHostName()).isEqualTo(host);
            }
        }
        try (Socket s = factory.createSocket()) {
            s.connect(InetSocketAddress.createUnresolved("vsock-1", ECHO_PORT), 1000);
            assertThat(s.isConnected()).isTrue();
        }
        assertThat(VsockSocketFactory.cidOfHostName("vsock-4294967295")).isEqualTo(-1);
    }

    @Test
    void whatTheConventionCannotReadIsAnUnknownHostNamingIt() {
        VsockSocketFactory factory = VsockSocketFactory.byHostName(machine);
        assertThatThrownBy(() -> factory.createSocket("localhost", ECHO_PORT)).isInstanceOf(UnknownHostException.class)
                .hasMessageContaining("localhost").hasMessageContaining("vsock-CID");
        assertThatThrownBy(() -> factory.createSocket("vsock-x", ECHO_PORT)).isInstanceOf(UnknownHostException.class)
                .hasMessageContaining("vsock-x");
        assertThatThrownBy(() -> factory.createSocket(InetAddress.getLoopbackAddress(), ECHO_PORT))
                .isInstanceOf(UnknownHostException.class).hasMessageContaining("toCid");
    }

    @Test
    void vsocksErrorsReachTheClientAsSocketExceptions() throws IOException {
        VsockSocketFactory factory = VsockSocketFactory.toCid(machine, VsockAddress.CID_LOCAL);
        assertThatThrownBy(() -> factory.createSocket("localhost", 9)).isInstanceOf(ConnectException.class)
                .hasMessageContaining("ECONNRESET");
        assertThatThrownBy(() -> factory.createSocket("localhost", ECHO_PORT, InetAddress.getLoopbackAddress(), 0))
                .isInstanceOf(SocketException.class).hasMessageContaining("no local IP address");
        try (Socket s = factory.createSocket("localhost", ECHO_PORT)) {
            assertThatThrownBy(() -> s.sendUrgentData(1)).isInstanceOf(SocketException.class).hasMessageContaining("Urgent data");
            s.setTcpNoDelay(true); // accepted: vsock has no Nagle delay to turn off
            assertThat(s.getTcpNoDelay()).isTrue();
        }
    }

    @Test
    void soTimeoutSetBeforeConnectBoundsAReadThatGetsNothing() throws IOException {
        try (VsockServerSocket silent = VsockServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, 7001));
             Socket s = VsockSocketFactory.toCid(machine, VsockAddress.CID_LOCAL).createSocket()) {
            s.setSoTimeout(200);
            s.connect(new InetSocketAddress("localhost", 7001));
            try (VsockSocket accepted = silent.accept()) {
                assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
                assertThat(s.isClosed()).as("a timeout leaves the socket usable").isFalse();
                accepted.getOutputStream().write(7);
                assertThat(s.getInputStream().read()).isEqualTo(7);
            }
        }
    }

    @Test
    void okHttpGetsAndPostsOverVsockWithTheFactory() throws Exception {
        OkHttpClient client = new OkHttpClient.Builder()
                .socketFactory(VsockSocketFactory.toCid(machine, VsockAddress.CID_LOCAL)).build();
        try {
            try (Response r = client.newCall(new Request.Builder().url("http://localhost:" + HTTP_PORT + "/hello").build()).execute()) {
                assertThat(r.code()).isEqualTo(200);
                assertThat(r.body().string()).isEqualTo("GET /hello over vsock\n");
            }
            byte[] body = new byte[1 << 20];
            new Random(8080).nextBytes(body);
            Request post = new Request.Builder().url("http://localhost:" + HTTP_PORT + "/sha256")
                    .post(RequestBody.create(body, MediaType.get("application/octet-stream"))).build();
            for (int i = 0; i < 3; i++) { // the connection is kept alive and reused between calls
                try (Response r = client.newCall(post).execute()) {
                    assertThat(r.code()).isEqualTo(200);
                    assertThat(r.body().string()).isEqualTo(sha256(body) + "\n");
                }
            }
        } finally {
            client.dispatcher().executorService().shutdown();
            client.connectionPool().evictAll();
        }
    }

    // ------------------------------------------------------------------------------------------------

    private interface Handler {
        void serve(VsockSocket s) throws Exception;
    }

    private Void acceptLoop(VsockServerSocket listener, Handler handler) {
        while (true) {
            VsockSocket s;
            try {
                s = listener.accept();
            } catch (IOException closed) {
                return null;
            }
            threads.submit(() -> {
                try (s) {
                    handler.serve(s);
                }
                return null;
            });
        }
    }

    private static void serveEcho(VsockSocket s) throws IOException {
        s.getInputStream().transferTo(s.getOutputStream());
        s.shutdownOutput();
    }

    /**
     * HTTP/1.1, just enough for the test: GET answers its path, POST answers the body's SHA-256 (the
     * body's length from Content-Length); keep-alive until the client closes.
     */
    private static void serveHttp(VsockSocket s) throws Exception {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        String requestLine;
        while ((requestLine = readLine(in)) != null) {
            long length = 0;
            for (String header; !(header = readLine(in)).isEmpty(); ) {
                if (header.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                    length = Long.parseLong(header.substring(15).trim());
                }
            }
            String[] parts = requestLine.split(" ");
            String answer = parts[0].equals("POST")
                    ? sha256(in.readNBytes((int) length)) + "\n"
                    : parts[0] + " " + parts[1] + " over vsock\n";
            byte[] bytes = answer.getBytes(StandardCharsets.US_ASCII);
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + bytes.length + "\r\nContent-Type: text/plain\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
        }
    }

    /** A CRLF-terminated line without its CRLF; null at EOF before any byte. */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) >= 0; ) {
            if (b == '\n') {
                String s = line.toString(StandardCharsets.US_ASCII);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.US_ASCII);
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
