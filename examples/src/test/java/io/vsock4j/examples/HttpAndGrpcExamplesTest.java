package io.vsock4j.examples;

import io.vsock4j.Vsock;
import io.vsock4j.VsockAddress;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.security.MessageDigest;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * OkHttp, unchanged but for its socket factory, against a Netty HTTP server on vsock4j's Netty
 * transport; and the gRPC greeter. Both over CID 1 of this JVM's Java loopback.
 */
@Timeout(60)
class HttpAndGrpcExamplesTest {
    @Test
    void okHttpTalksToANettyHttpServerOverVsock() throws Exception {
        try (HttpOverVsock.Server server = HttpOverVsock.serve(Vsock.defaultProvider(), 8080)) {
            OkHttpClient http = HttpOverVsock.client(Vsock.defaultProvider(), VsockAddress.CID_LOCAL);
            try (Response r = http.newCall(new Request.Builder().url("http://localhost:8080/hello").build()).execute()) {
                assertEquals(200, r.code());
                assertTrue(r.body().string().startsWith("hello over vsock from 1:8080"));
            }
            try (Response r = http.newCall(new Request.Builder().url("http://localhost:8080/nothing").build()).execute()) {
                assertEquals(404, r.code());
            }
            long seed = System.nanoTime();
            byte[] body = new byte[8 << 20];
            new Random(seed).nextBytes(body);
            for (int i = 0; i < 3; i++) { // one kept-alive connection
                try (Response r = http.newCall(new Request.Builder().url("http://localhost:8080/echo")
                        .post(RequestBody.create(body, MediaType.get("application/octet-stream"))).build()).execute()) {
                    assertEquals(200, r.code());
                    byte[] back = r.body().bytes();
                    assertArrayEquals(sha256(body), sha256(back), "seed " + seed + ": the 8 MiB echo differs");
                }
            }
            assertEquals(1, http.connectionPool().connectionCount(), "OkHttp kept one vsock connection alive");
        }
    }

    @Test
    void theGreeterAnswersOverVsock() throws Exception {
        assertEquals("Hello, vsock4j, over vsock", GrpcOverVsock.greet(50051, "vsock4j"));
    }

    private static byte[] sha256(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }
}
