package io.vsock4j.grpc;

import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.vsock4j.SocketProvider;
import io.vsock4j.Vsock;
import io.vsock4j.VsockAddress;
import io.vsock4j.netty.VsockChannel;
import io.vsock4j.netty.VsockIoHandler;
import io.vsock4j.netty.VsockServerChannel;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * gRPC-java over vsock: grpc-netty's builders set up for vsock4j-netty's channels, so a gRPC server
 * listens on a vsock port and a client dials (CID, port), on any vsock4j machine (the Java loopback at
 * CID 1 needs no VM). The unshaded grpc-netty is needed: the shaded artifact relocates Netty and cannot
 * take an outside channel class.
 *
 * <pre>{@code
 * Server server = VsockGrpc.serverBuilder(50051).addService(new GreeterImpl()).build().start();
 * ManagedChannel channel = VsockGrpc.channelBuilder(VsockAddress.of(3, 50051)).build();
 * }</pre>
 *
 * <p><b>Event loops.</b> The forms without a group share one group of vsock event loops per provider
 * for the life of the JVM (daemon threads, as many as processors; grpc-netty shares its own NIO loops
 * the same way), so a program need not own any. The forms with a group take the caller's: gRPC does not
 * shut it down, so shut it down after the server and channels are terminated. A group must be made with
 * a {@link VsockIoHandler} factory ({@link #newEventLoopGroup}); its provider is where the sockets open.
 *
 * <p>Connections are plaintext (vsock connects a VM to its own host); set TLS credentials on the
 * builders where that is not enough. Any thread.
 */
public final class VsockGrpc {
    /** The shared groups, by provider; guarded by itself. */
    private static final Map<SocketProvider, EventLoopGroup> SHARED = new IdentityHashMap<>();

    private VsockGrpc() {
    }

    /** An event-loop group for vsock channels whose sockets open on {@code provider}. */
    public static EventLoopGroup newEventLoopGroup(int threads, SocketProvider provider) {
        return new MultiThreadIoEventLoopGroup(threads, VsockIoHandler.newFactory(provider));
    }

    /** The JVM-wide group of vsock event loops for {@code provider} (daemon threads), made on first use. */
    public static EventLoopGroup sharedEventLoopGroup(SocketProvider provider) {
        Objects.requireNonNull(provider, "provider");
        synchronized (SHARED) {
            return SHARED.computeIfAbsent(provider, p -> new MultiThreadIoEventLoopGroup(0,
                    new DefaultThreadFactory("vsock4j-grpc", true), VsockIoHandler.newFactory(p)));
        }
    }

    /** A server builder listening on (any CID, {@code port}) of {@link Vsock#defaultProvider()}, on shared loops. */
    public static NettyServerBuilder serverBuilder(int port) {
        return serverBuilder(Vsock.defaultProvider(), VsockAddress.of(VsockAddress.CID_ANY, port));
    }

    /** A server builder listening on {@code address} of {@code provider}, on shared loops. */
    public static NettyServerBuilder serverBuilder(SocketProvider provider, VsockAddress address) {
        return serverBuilder(address, sharedEventLoopGroup(provider));
    }

    /**
     * A gRPC server builder listening on {@code address} (a CID this machine has, or CID_ANY, and a port),
     * accepting and serving on {@code group}, which must be made with a {@link VsockIoHandler} factory.
     */
    public static NettyServerBuilder serverBuilder(VsockAddress address, EventLoopGroup group) {
        return NettyServerBuilder.forAddress(Objects.requireNonNull(address, "address"))
                .channelType(VsockServerChannel.class)
                .bossEventLoopGroup(group)
                .workerEventLoopGroup(group);
    }

    /** A plaintext channel builder for the server at {@code address} on {@link Vsock#defaultProvider()}, on shared loops. */
    public static NettyChannelBuilder channelBuilder(VsockAddress address) {
        return channelBuilder(Vsock.defaultProvider(), address);
    }

    /** A plaintext channel builder for the server at {@code address} on {@code provider}, on shared loops. */
    public static NettyChannelBuilder channelBuilder(SocketProvider provider, VsockAddress address) {
        return channelBuilder(address, sharedEventLoopGroup(provider));
    }

    /**
     * A plaintext gRPC channel builder for the server at {@code address}, connecting on {@code group}, which
     * must be made with a {@link VsockIoHandler} factory. The channel's authority is the address as text
     * ("3:50051"); override it with {@code overrideAuthority} if the server checks it.
     */
    public static NettyChannelBuilder channelBuilder(VsockAddress address, EventLoopGroup group) {
        return NettyChannelBuilder.forAddress(Objects.requireNonNull(address, "address"))
                .channelType(VsockChannel.class, VsockAddress.class)
                .eventLoopGroup(group)
                .usePlaintext();
    }
}
