package io.vsock4j.grpc;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.netty.channel.EventLoopGroup;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * gRPC-java over vsock on the Java loopback (CID 1), one JVM: {@link GrpcCallCases} through
 * {@link VsockGrpc}'s builders, and what a channel to nobody says. A fresh machine and event-loop group
 * per test.
 */
class VsockGrpcTest extends GrpcCallCases {
    private static final int PORT = 50051;

    private Machine machine;
    private EventLoopGroup group;
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws IOException {
        machine = Machines.loopback();
        group = VsockGrpc.newEventLoopGroup(1, machine);
        server = VsockGrpc.serverBuilder(VsockAddress.of(VsockAddress.CID_ANY, PORT), group)
                .addService(EchoService.definition()).build().start();
        channel = VsockGrpc.channelBuilder(VsockAddress.local(PORT), group).build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        machine.close();
    }

    @Override
    protected ManagedChannel channel() {
        return channel;
    }

    @Test
    void theServerListensOnTheVsockAddress() {
        assertThat(server.getListenSockets()).singleElement().isEqualTo(VsockAddress.of(VsockAddress.CID_ANY, PORT));
    }

    @Test
    void aChannelToAPortNobodyServesFailsUnavailableNamingTheAddress() throws InterruptedException {
        ManagedChannel nowhere = VsockGrpc.channelBuilder(VsockAddress.local(PORT + 1), group).build();
        try {
            assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(nowhere, EchoService.UNARY, CallOptions.DEFAULT, "x"))
                    .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("UNAVAILABLE")
                    .hasStackTraceContaining("ECONNRESET").hasStackTraceContaining("1:" + (PORT + 1));
        } finally {
            nowhere.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }
}
