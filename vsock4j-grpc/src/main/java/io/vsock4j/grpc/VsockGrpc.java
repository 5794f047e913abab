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
 * grpc-netty's builders for vsock addresses. A server listens on (any CID, port) of a provider; a
 * channel connects to (CID, port). Both run on vsock4j's Netty channels ({@link VsockServerChannel},
 * {@link VsockChannel}) and on event loops of {@link VsockIoHandler}.
 *
 * <pre>{@code
 * Server server = VsockGrpc.serverBuilder(5000).addService(new GreeterService()).build().start();
 * ManagedChannel channel = VsockGrpc.channelBuilder(VsockAddress.of(3, 5000)).build();
 * }</pre>
 *
 * <p><b>Event loops.</b> The short forms share one group of event loops per provider for the life of
 * the JVM (daemon threads, as many as processors; grpc-netty shares its own NIO loops the same way), so
 * a program need not own any. To own them, pass a group made with
 * {@code new MultiThreadIoEventLoopGroup(n, VsockIoHandler.newFactory(provider))}: gRPC never shuts
 * down a group it was given, so shut it down after the servers and channels on it.
 *
 * <p>Connections are plaintext: vsock reaches only this machine's VMs and processes, and who may
 * connect is what the transport allows. {@code useTransportSecurity()} on the returned channel builder
 * still works for TLS over vsock.
 *
 * <p>Thread-safe.
 */
public final class VsockGrpc {
    /** Shared event loop groups by provider; guarded by itself. */
    private static final Map<SocketProvider, EventLoopGroup> SHARED = new IdentityHashMap<>();

    private VsockGrpc() {
    }

    /** A server builder listening on (any CID, {@code port}) of the default provider. */
    public static NettyServerBuilder serverBuilder(int port) {
        return serverBuilder(Vsock.defaultProvider(), VsockAddress.of(VsockAddress.CID_ANY, port));
    }

    /** A server builder listening on {@code listen} of {@code provider}, on shared event loops. */
    public static NettyServerBuilder serverBuilder(SocketProvider provider, VsockAddress listen) {
        EventLoopGroup loops = sharedLoops(provider);
        return serverBuilder(loops, loops, listen);
    }

    /**
     * A server builder listening on {@code listen}, accepting on {@code boss} and serving on {@code workers}:
     * groups of {@link VsockIoHandler} loops, whose provider the server's sockets use.
     */
    public static NettyServerBuilder serverBuilder(EventLoopGroup boss, EventLoopGroup workers, VsockAddress listen) {
        Objects.requireNonNull(listen, "listen");
        return NettyServerBuilder.forAddress(listen)
                .channelType(VsockServerChannel.class)
                .bossEventLoopGroup(Objects.requireNonNull(boss, "boss"))
                .workerEventLoopGroup(Objects.requireNonNull(workers, "workers"));
    }

    /** A plaintext channel builder to {@code target} on the default provider. */
    public static NettyChannelBuilder channelBuilder(VsockAddress target) {
        return channelBuilder(Vsock.defaultProvider(), target);
    }

    /** A plaintext channel builder to {@code target} on {@code provider}, on shared event loops. */
    public static NettyChannelBuilder channelBuilder(SocketProvider provider, VsockAddress target) {
        return channelBuilder(sharedLoops(provider), target);
    }

    /** A plaintext channel builder to {@code target} on {@code loops}, a group of {@link VsockIoHandler} loops. */
    public static NettyChannelBuilder channelBuilder(EventLoopGroup loops, VsockAddress target) {
        Objects.requireNonNull(target, "target");
        return NettyChannelBuilder.forAddress(target)
                .channelType(VsockChannel.class)
                .eventLoopGroup(Objects.requireNonNull(loops, "loops"))
                .usePlaintext();
    }

    /** The JVM-wide group of vsock event loops for {@code provider}, made on first use. */
    public static EventLoopGroup sharedLoops(SocketProvider provider) {
        Objects.requireNonNull(provider, "provider");
        synchronized (SHARED) {
            return SHARED.computeIfAbsent(provider, p -> new MultiThreadIoEventLoopGroup(0,
                    new DefaultThreadFactory("vsock4j-grpc", true), VsockIoHandler.newFactory(p)));
        }
    }
}
