package io.vsock4j.grpc;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.vsock4j.Vsock;
import io.vsock4j.VsockAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link GrpcCallCases} through {@link VsockGrpc}'s short forms: the default provider and its shared
 * event loops, nothing for the program to own or shut down but its server and channel.
 */
class SharedLoopsGrpcTest extends GrpcCallCases {
    private static final int PORT = 50061;

    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws IOException {
        server = VsockGrpc.serverBuilder(PORT).addService(EchoService.definition()).build().start();
        channel = VsockGrpc.channelBuilder(VsockAddress.local(PORT)).build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    @Override
    protected ManagedChannel channel() {
        return channel;
    }

    @Test
    void oneSharedGroupPerProvider() {
        assertThat(VsockGrpc.sharedEventLoopGroup(Vsock.defaultProvider()))
                .isSameAs(VsockGrpc.sharedEventLoopGroup(Vsock.defaultProvider()));
    }
}
