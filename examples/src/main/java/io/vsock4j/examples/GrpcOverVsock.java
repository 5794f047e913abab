package io.vsock4j.examples;

import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.vsock4j.VsockAddress;
import io.vsock4j.grpc.VsockGrpc;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC service over vsock with {@link VsockGrpc}: a greeter that answers a name with a greeting.
 * A real service would have protoc generate its stubs; this one writes its method descriptor by hand
 * (strings in UTF-8), so the example builds without protoc. Everything vsock-specific is the two
 * builder calls in {@link #main}.
 *
 * <pre>java io.vsock4j.examples.GrpcOverVsock [NAME]   # server and client in one JVM, over CID 1</pre>
 */
public final class GrpcOverVsock {
    static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
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

    /** helloworld.Greeter/SayHello, with strings for messages. */
    static final MethodDescriptor<String, String> SAY_HELLO = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("helloworld.Greeter/SayHello")
            .setRequestMarshaller(UTF8)
            .setResponseMarshaller(UTF8)
            .build();

    /** The service: what protoc's generated base class would be subclassed for. */
    static final class Greeter implements BindableService {
        @Override
        public ServerServiceDefinition bindService() {
            return ServerServiceDefinition.builder("helloworld.Greeter")
                    .addMethod(SAY_HELLO, ServerCalls.asyncUnaryCall((name, reply) -> {
                        reply.onNext("Hello, " + name + ", over vsock");
                        reply.onCompleted();
                    }))
                    .build();
        }
    }

    private GrpcOverVsock() {
    }

    /** Starts the greeter on {@code port}, calls it once as {@code name} over CID 1, and stops both. */
    public static String greet(int port, String name) throws Exception {
        Server server = VsockGrpc.serverBuilder(port).addService(new Greeter()).build().start();
        ManagedChannel channel = VsockGrpc.channelBuilder(VsockAddress.local(port)).build();
        try {
            return ClientCalls.blockingUnaryCall(channel, SAY_HELLO, CallOptions.DEFAULT, name);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    public static void main(String[] args) throws Exception {
        System.out.println(greet(50051, args.length > 0 ? args[0] : "world"));
    }
}
