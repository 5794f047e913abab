package io.vsock4j.grpc;

import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The gRPC service the tests call, written by hand (no protoc): method descriptors with a UTF-8 string
 * marshaller, handlers from grpc-stub's ServerCalls. Upper: the request upper-cased ("fail" fails with
 * INVALID_ARGUMENT). Count: "N" answers 1..N. Chat: each message echoed with "re: ".
 */
final class EchoService {
    private EchoService() {
    }

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

    static final MethodDescriptor<String, String> UNARY = method(MethodDescriptor.MethodType.UNARY, "Upper");
    static final MethodDescriptor<String, String> COUNT = method(MethodDescriptor.MethodType.SERVER_STREAMING, "Count");
    static final MethodDescriptor<String, String> CHAT = method(MethodDescriptor.MethodType.BIDI_STREAMING, "Chat");

    private static MethodDescriptor<String, String> method(MethodDescriptor.MethodType type, String name) {
        return MethodDescriptor.<String, String>newBuilder().setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(UTF8).setResponseMarshaller(UTF8).build();
    }

    /** The service with the three methods (see the class comment). */
    static ServerServiceDefinition definition() {
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
}
