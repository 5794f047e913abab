package io.vsock4j.grpc;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * gRPC-java over vsock on the Java loopback (CID 1), one JVM: unary, server-streaming and bidirectional
 * calls through {@link VsockGrpc}'s builders. The service is written by hand (no protoc): method
 * descriptors with a UTF-8 string marshaller, handlers from grpc-stub's ServerCalls. A fresh machine and
 * event-loop group per test; randomness is seeded and the seed printed.
 */
class VsockGrpcTest {
    private static final String SERVICE = "vsock4j.test.Echo";

    /** Strings as UTF-8 bytes: all the marshalling these tests need. */
    private static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private static final MethodDescriptor<String, String> UNARY = method(MethodDescriptor.MethodType.UNARY, "Upper");
    private static final MethodDescriptor<String, String> COUNT = method(MethodDescriptor.MethodType.SERVER_STREAMING, "Count");
    private static final MethodDescriptor<String, String> CHAT = method(MethodDescriptor.MethodType.BIDI_STREAMING, "Chat");

    private static MethodDescriptor<String, String> method(MethodDescriptor.MethodType type, String name) {
        return MethodDescriptor.<String, String>newBuilder().setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(UTF8).setResponseMarshaller(UTF8).build();
    }

    /** Upper: the request upper-cased. Count: "N" answers 1..N. Chat: each message echoed with "re: ". */
    private static ServerServiceDefinition echoService() {
        return ServerServiceDefinition.builder(SERVICE)
                .addMethod(UNARY, ServerCalls.asyncUnaryCall((request, out) -> {
                    if (request.equals("fail")) {
                        out.onError(Status.INVALID_ARGUMENT.withDescription("asked to fail").asRuntimeException());
                        return;
                    }
                    out.onNext(request.toUpperCase(java.util.Locale.ROOT));
                    out.onCompleted();
                }))
                .addMethod(COUNT, ServerCalls.asyncServerStreamingCall((request, out) -> {
                    int n = Integer.parseInt(request);
                    for (int i = 1; i <= n; i++) {
                        out.onNext(Integer.toString(i));
                    }
                    out.onCompleted();
                }))
                .addMethod(CHAT, ServerCalls.asyncBidiStreamingCall(out -> new StreamObserver<String>() {
                    @Override
                    public void onNext(String message) {
                        out.onNext("re: " + message);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onCompleted();
                    }
                }))
                .build();
    }

    private SplittableRandom random;
    private Machine machine;
    private EventLoopGroup group;
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws IOException {
        long seed = Long.getLong("vsock4j.test.seed", System.nanoTime());
        System.out.println("VsockGrpcTest seed " + seed + " (-Dvsock4j.test.seed=N to replay)");
        random = new SplittableRandom(seed);
        machine = Machines.loopback();
        group = VsockGrpc.newEventLoopGroup(1, machine);
        int port = 50051;
        server = VsockGrpc.serverBuilder(VsockAddress.of(VsockAddress.CID_ANY, port), group)
                .addService(echoService()).build().start();
        channel = VsockGrpc.channelBuilder(VsockAddress.local(port), group).build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        machine.close();
    }

    private String randomText(int maxChars) {
        StringBuilder s = new StringBuilder();
        int n = 1 + random.nextInt(maxChars);
        for (int i = 0; i < n; i++) {
            s.append((char) ('a' + random.nextInt(26)));
        }
        return s.toString();
    }

    @Test
    void unaryCallsAnswerAndCarryErrorsAndLargeMessages() {
        assertThat(ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "hello vsock")).isEqualTo("HELLO VSOCK");
        // Larger than the credit window and HTTP/2's initial window: flow control on both levels.
        String big = randomText(3 << 20);
        assertThat(ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, big))
                .isEqualTo(big.toUpperCase(java.util.Locale.ROOT));
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "fail"))
                .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("asked to fail");
        assertThat(server.getListenSockets()).singleElement().isEqualTo(VsockAddress.of(VsockAddress.CID_ANY, 50051));
    }

    @Test
    void serverStreamingCallsDeliverEveryMessageInOrder() {
        int n = 1 + random.nextInt(2000);
        Iterator<String> answers = ClientCalls.blockingServerStreamingCall(channel, COUNT, CallOptions.DEFAULT, Integer.toString(n));
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
        StreamObserver<String> requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(CHAT, CallOptions.DEFAULT),
                new StreamObserver<>() {
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

    @Test
    void aChannelToAPortNobodyServesFailsUnavailableNamingTheAddress() throws InterruptedException {
        ManagedChannel nowhere = VsockGrpc.channelBuilder(VsockAddress.local(50052), group).build();
        try {
            assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(nowhere, UNARY, CallOptions.DEFAULT, "x"))
                    .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("UNAVAILABLE")
                    .hasStackTraceContaining("ECONNRESET").hasStackTraceContaining("1:50052");
        } finally {
            nowhere.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }
}
