package io.vsock4j.grpc;

import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.vsock4j.SocketProvider;
import io.vsock4j.VsockAddress;
import io.vsock4j.netty.VsockChannel;
import io.vsock4j.netty.VsockIoHandler;
import io.vsock4j.netty.VsockServerChannel;

/**
 * gRPC-java over vsock: grpc-netty's builders set up for vsock4j-netty's channels, so a gRPC server
 * listens on a vsock port and a client dials (CID, port), on any vsock4j machine (the Java loopback at
 * CID 1 needs no VM). The unshaded grpc-netty is needed: the shaded artifact relocates Netty and cannot
 * take an outside channel class.
 *
 * <pre>{@code
 * EventLoopGroup group = VsockGrpc.newEventLoopGroup(1, Vsock.defaultProvider());
 * Server server = VsockGrpc.serverBuilder(VsockAddress.of(VsockAddress.CID_ANY, 50051), group)
 *         .addService(new GreeterImpl()).build().start();
 * ManagedChannel channel = VsockGrpc.channelBuilder(VsockAddress.local(50051), group).build();
 * }</pre>
 *
 * The event-loop group is the caller's: gRPC does not shut it down, so shut it down after the server and
 * channels are terminated. Connections are plaintext (vsock connects a VM to its own host); set TLS
 * credentials on the builders where that is not enough. Any thread.
 */
public final class VsockGrpc {
    private VsockGrpc() {
    }

    /** An event-loop group for vsock channels whose sockets open on {@code provider}. */
    public static EventLoopGroup newEventLoopGroup(int threads, SocketProvider provider) {
        return new MultiThreadIoEventLoopGroup(threads, VsockIoHandler.newFactory(provider));
    }

    /**
     * A gRPC server builder listening on {@code address} (a CID this machine has, or CID_ANY, and a port),
     * accepting and serving on {@code group}, which must be made with a {@link VsockIoHandler} factory.
     */
    public static NettyServerBuilder serverBuilder(VsockAddress address, EventLoopGroup group) {
        return NettyServerBuilder.forAddress(address)
                .channelType(VsockServerChannel.class)
                .bossEventLoopGroup(group)
                .workerEventLoopGroup(group);
    }

    /**
     * A plaintext gRPC channel builder for the server at {@code address}, connecting on {@code group}, which
     * must be made with a {@link VsockIoHandler} factory. The channel's authority is the address as text
     * ("3:50051"); override it with {@code overrideAuthority} if the server checks it.
     */
    public static NettyChannelBuilder channelBuilder(VsockAddress address, EventLoopGroup group) {
        return NettyChannelBuilder.forAddress(address)
                .channelType(VsockChannel.class, VsockAddress.class)
                .eventLoopGroup(group)
                .usePlaintext();
    }
}
