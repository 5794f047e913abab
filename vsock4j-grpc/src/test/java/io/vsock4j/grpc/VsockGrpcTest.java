package io.vsock4j.grpc;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.vsock4j.SocketProvider;
import io.vsock4j.Vsock;
import io.vsock4j.VsockAddress;
import io.vsock4j.netty.VsockIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** gRPC over CID 1 of this JVM's Java loopback: unary, server-streaming and bidirectional calls. */
@Timeout(60)
class VsockGrpcTest {
    static final int PORT = 7000;
    final List<Runnable> cleanup = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (Runnable r : cleanup.reversed()) {
            r.run();
        }
    }

    private Server start(io.grpc.netty.NettyServerBuilder builder) throws Exception {
        Server server = builder.addService(TextService.definition()).build().start();
        cleanup.add(() -> {
            server.shutdownNow();
            awaitQuietly(() -> server.awaitTermination(10, TimeUnit.SECONDS));
        });
        return server;
    }

    private ManagedChannel channel(io.grpc.netty.NettyChannelBuilder builder) {
        ManagedChannel channel = builder.build();
        cleanup.add(() -> {
            channel.shutdownNow();
            awaitQuietly(() -> channel.awaitTermination(10, TimeUnit.SECONDS));
        });
        return channel;
    }

    interface Await {
        boolean await() throws InterruptedException;
    }

    private static void awaitQuietly(Await a) {
        try {
            assertThat(a.await()).as("terminated in time").isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void unaryServerStreamingAndBidiCallsRunOverTheJavaLoopback() throws Exception {
        start(VsockGrpc.serverBuilder(PORT));
        ManagedChannel channel = channel(VsockGrpc.channelBuilder(VsockAddress.of(VsockAddress.CID_LOCAL, PORT)));

        assertThat(ClientCalls.blockingUnaryCall(channel, TextService.ECHO, CallOptions.DEFAULT, "hello")).isEqualTo("echo: hello");

        Iterator<String> counted = ClientCalls.blockingServerStreamingCall(channel, TextService.COUNT, CallOptions.DEFAULT, "1000");
        List<String> got = new ArrayList<>();
        counted.forEachRemaining(got::add);
        assertThat(got).containsExactlyElementsOf(IntStream.rangeClosed(1, 1000).mapToObj(Integer::toString).toList());

        List<String> sent = IntStream.range(0, 200).mapToObj(i -> "message " + i + " " + "x".repeat(i * 100)).toList();
        assertThat(TextService.chat(channel, sent)).containsExactlyElementsOf(sent.stream().map(s -> s.toUpperCase(java.util.Locale.ROOT)).toList());
    }

    @Test
    void aLargeUnaryMessageArrivesWhole() throws Exception {
        start(VsockGrpc.serverBuilder(PORT + 1));
        ManagedChannel channel = channel(VsockGrpc.channelBuilder(VsockAddress.of(VsockAddress.CID_LOCAL, PORT + 1)));
        String big = "0123456789abcdef".repeat(200_000); // 3.2 MB: many credit windows, under gRPC's 4 MiB limit
        assertThat(ClientCalls.blockingUnaryCall(channel, TextService.ECHO, CallOptions.DEFAULT, big)).isEqualTo("echo: " + big);
    }

    @Test
    void ownEventLoopsAndAProviderOfOnesOwn() throws Exception {
        SocketProvider provider = Vsock.provider("java"); // a second machine: its CID 1 is not the default one's
        EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory(provider));
        cleanup.add(() -> loops.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly());
        start(VsockGrpc.serverBuilder(loops, loops, VsockAddress.of(VsockAddress.CID_ANY, PORT + 2)));
        ManagedChannel channel = channel(VsockGrpc.channelBuilder(loops, VsockAddress.of(VsockAddress.CID_LOCAL, PORT + 2)));
        assertThat(ClientCalls.blockingUnaryCall(channel, TextService.ECHO, CallOptions.DEFAULT, "mine")).isEqualTo("echo: mine");

        // The default machine has nobody on that port: the call fails UNAVAILABLE, naming the reset.
        ManagedChannel elsewhere = channel(VsockGrpc.channelBuilder(VsockAddress.of(VsockAddress.CID_LOCAL, PORT + 2)));
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(elsewhere, TextService.ECHO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "x"))
                .isInstanceOf(StatusRuntimeException.class)
                .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE))
                .hasStackTraceContaining("ECONNRESET");
        if (provider instanceof AutoCloseable machine) {
            machine.close();
        }
    }
}
