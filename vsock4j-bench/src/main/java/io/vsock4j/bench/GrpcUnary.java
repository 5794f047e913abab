package io.vsock4j.bench;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.grpc.VsockGrpc;
import io.vsock4j.machines.Machines;
import io.vsock4j.netty.VsockIoHandler;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * gRPC unary calls of 64-byte messages, one caller at a time, over vsock (vsock4j's Netty transport on
 * the Java loopback, CID 1) and over grpc-netty's NIO TCP on 127.0.0.1, in the same fork: calls per
 * second, and the sampled time per call for its median (issue #15's performance item). Server and
 * channel each have their own event loop, as in two processes.
 */
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class GrpcUnary {
    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    static final MethodDescriptor<byte[], byte[]> ECHO = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("bench.Echo/Echo")
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

    @Param({"vsock", "tcp"})
    public String transport;

    private Machine machine;
    private EventLoopGroup serverLoop;
    private EventLoopGroup clientLoop;
    private Server server;
    private ManagedChannel channel;
    private final byte[] request = new byte[64];

    @Setup
    public void setUp() throws Exception {
        ServerServiceDefinition echo = ServerServiceDefinition.builder("bench.Echo")
                .addMethod(ECHO, ServerCalls.asyncUnaryCall((byte[] in, io.grpc.stub.StreamObserver<byte[]> out) -> {
                    out.onNext(in);
                    out.onCompleted();
                })).build();
        if (transport.equals("vsock")) {
            machine = Machines.loopback();
            serverLoop = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory(machine));
            clientLoop = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory(machine));
            server = VsockGrpc.serverBuilder(VsockAddress.of(VsockAddress.CID_ANY, 5000), serverLoop)
                    .directExecutor().addService(echo).build().start();
            channel = VsockGrpc.channelBuilder(VsockAddress.local(5000), clientLoop).directExecutor().build();
        } else {
            serverLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            clientLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .channelType(NioServerSocketChannel.class).bossEventLoopGroup(serverLoop).workerEventLoopGroup(serverLoop)
                    .directExecutor().addService(echo).build().start();
            channel = NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", server.getPort()))
                    .channelType(NioSocketChannel.class).eventLoopGroup(clientLoop).usePlaintext().directExecutor().build();
        }
        ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, request); // connected before timing
    }

    /** Calls per second. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public byte[] calls() {
        return ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, request);
    }

    /** Time per call, sampled for the median. */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public byte[] callTime() {
        return ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, request);
    }

    @TearDown
    public void tearDown() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        clientLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        serverLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        if (machine != null) {
            machine.close();
        }
    }
}
