package io.vsock4j.grpc;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The gRPC calls, written once, that every vsock setup must carry: unary (a small and a 3 MiB message,
 * and an error status), server-streaming and bidirectional, against {@link EchoService}. A subclass gives
 * the channel to a server it started. Randomness is seeded and the seed printed. JUnit's thread.
 */
abstract class GrpcCallCases {
    protected SplittableRandom random;

    /** A channel to a server serving {@link EchoService}. */
    protected abstract ManagedChannel channel();

    @BeforeEach
    void seed() {
        long seed = Long.getLong("vsock4j.test.seed", System.nanoTime());
        System.out.println(getClass().getSimpleName() + " seed " + seed + " (-Dvsock4j.test.seed=N to replay)");
        random = new SplittableRandom(seed);
    }

    protected String randomText(int maxChars) {
        StringBuilder s = new StringBuilder();
        int n = 1 + random.nextInt(maxChars);
        for (int i = 0; i < n; i++) {
            s.append((char) ('a' + random.nextInt(26)));
        }
        return s.toString();
    }

    @Test
    void unaryCallsAnswerAndCarryErrorsAndLargeMessages() {
        assertThat(ClientCalls.blockingUnaryCall(channel(), EchoService.UNARY, CallOptions.DEFAULT, "hello vsock"))
                .isEqualTo("HELLO VSOCK");
        // Larger than the credit window and HTTP/2's initial window: flow control on both levels.
        String big = randomText(3 << 20);
        assertThat(ClientCalls.blockingUnaryCall(channel(), EchoService.UNARY, CallOptions.DEFAULT, big))
                .isEqualTo(big.toUpperCase(Locale.ROOT));
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel(), EchoService.UNARY, CallOptions.DEFAULT, "fail"))
                .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("INVALID_ARGUMENT")
                .hasMessageContaining("asked to fail");
    }

    @Test
    void serverStreamingCallsDeliverEveryMessageInOrder() {
        int n = 1 + random.nextInt(2000);
        Iterator<String> answers = ClientCalls.blockingServerStreamingCall(channel(), EchoService.COUNT,
                CallOptions.DEFAULT, Integer.toString(n));
        List<String> got = new ArrayList<>();
        answers.forEachRemaining(got::add);
        assertThat(got).hasSize(n).first().isEqualTo("1");
        assertThat(got.getLast()).isEqualTo(Integer.toString(n));
    }

    @Test
    void bidirectionalCallsEchoEachMessageAndEndTogether() throws Exception {
        List<String> sent = new ArrayList<>();
        List<String> got = new ArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<String> requests = ClientCalls.asyncBidiStreamingCall(
                channel().newCall(EchoService.CHAT, CallOptions.DEFAULT), new StreamObserver<>() {
                    @Override
                    public void onNext(String value) {
                        synchronized (got) {
                            got.add(value);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        int n = 1 + random.nextInt(500);
        for (int i = 0; i < n; i++) {
            String m = randomText(2000);
            sent.add("re: " + m);
            requests.onNext(m);
        }
        requests.onCompleted();
        done.get(30, TimeUnit.SECONDS);
        synchronized (got) {
            assertThat(got).isEqualTo(sent);
        }
    }
}
