package io.vsock4j.grpc;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.ClientCalls;
import io.vsock4j.VsockAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The short forms of {@link VsockGrpc}: the default provider and its shared event loops, nothing to own. */
@Timeout(60)
class SharedLoopsGrpcTest {
    @Test
    void aServerAndAChannelOnTheSharedLoopsOfTheDefaultProvider() throws Exception {
        Server server = VsockGrpc.serverBuilder(7000).addService(TextService.definition()).build().start();
        ManagedChannel channel = VsockGrpc.channelBuilder(VsockAddress.local(7000)).build();
        try {
            assertThat(ClientCalls.blockingUnaryCall(channel, TextService.ECHO, CallOptions.DEFAULT, "hello")).isEqualTo("echo: hello");
            List<String> counted = new ArrayList<>();
            ClientCalls.blockingServerStreamingCall(channel, TextService.COUNT, CallOptions.DEFAULT, "1000").forEachRemaining(counted::add);
            assertThat(counted).containsExactlyElementsOf(IntStream.rangeClosed(1, 1000).mapToObj(Integer::toString).toList());
            List<String> sent = IntStream.range(0, 200).mapToObj(i -> "message " + i + " " + "x".repeat(i * 100)).toList();
            assertThat(TextService.chat(channel, sent)).containsExactlyElementsOf(sent.stream().map(s -> s.toUpperCase(Locale.ROOT)).toList());
            assertThat(VsockGrpc.sharedEventLoopGroup(io.vsock4j.Vsock.defaultProvider()))
                    .as("one group per provider").isSameAs(VsockGrpc.sharedEventLoopGroup(io.vsock4j.Vsock.defaultProvider()));
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }
}
