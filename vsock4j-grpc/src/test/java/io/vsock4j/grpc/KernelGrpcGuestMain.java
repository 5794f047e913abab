package io.vsock4j.grpc;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.vsock4j.SocketProvider;
import io.vsock4j.Vsock;
import io.vsock4j.VsockAddress;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * gRPC over the kernel's AF_VSOCK, run by {@link GrpcKernelInGuestTest} inside the QEMU guest
 * (vsock_loopback, CID 1): a unary, a server-streaming and a bidirectional call to {@link EchoService}.
 * Prints one {@code PASS name} or {@code FAIL name: why} line per call and exits 0 only if all passed.
 * Refuses to run outside the guest (the kernel provider's guard refuses too).
 */
public final class KernelGrpcGuestMain {
    private KernelGrpcGuestMain() {
    }

    private interface Call {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        if (!Files.readString(Path.of("/proc/cmdline")).contains("vsock4j.guest=1")) {
            System.out.println("FAIL guard: not inside the vsock4j QEMU guest; refusing to open kernel vsock sockets");
            System.exit(2);
        }
        SocketProvider kernel = Vsock.provider("kernel");
        EventLoopGroup group = VsockGrpc.newEventLoopGroup(1, kernel);
        Server server = VsockGrpc.serverBuilder(VsockAddress.of(VsockAddress.CID_ANY, 50071), group)
                .addService(EchoService.definition()).build().start();
        ManagedChannel channel = VsockGrpc.channelBuilder(VsockAddress.local(50071), group).build();
        boolean ok = true;
        try {
            ok &= run("unary", () -> check(ClientCalls.blockingUnaryCall(channel, EchoService.UNARY, CallOptions.DEFAULT,
                    "over the kernel"), "OVER THE KERNEL"));
            ok &= run("server-streaming", () -> {
                Iterator<String> it = ClientCalls.blockingServerStreamingCall(channel, EchoService.COUNT, CallOptions.DEFAULT, "500");
                List<String> got = new ArrayList<>();
                it.forEachRemaining(got::add);
                check(got.size() + " " + got.getLast(), "500 500");
            });
            ok &= run("bidirectional", () -> {
                List<String> got = new ArrayList<>();
                CompletableFuture<Void> done = new CompletableFuture<>();
                StreamObserver<String> out = ClientCalls.asyncBidiStreamingCall(channel.newCall(EchoService.CHAT, CallOptions.DEFAULT),
                        new StreamObserver<>() {
                            @Override
                            public void onNext(String v) {
                                synchronized (got) {
                                    got.add(v);
                                }
                            }

                            @Override
                            public void onError(Throwable t) {
                                done.completeExceptionally(t);
                            }

                            @Override
                            public void onCompleted() {
                                done.complete(null);
                            }
                        });
                for (int i = 0; i < 100; i++) {
                    out.onNext("m" + i);
                }
                out.onCompleted();
                done.get(60, TimeUnit.SECONDS);
                synchronized (got) {
                    check(got.size() + " " + got.getLast(), "100 re: m99");
                }
            });
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
        System.exit(ok ? 0 : 1);
    }

    private static void check(String got, String wanted) {
        if (!got.equals(wanted)) {
            throw new AssertionError("got '" + got + "', wanted '" + wanted + "'");
        }
    }

    private static boolean run(String name, Call call) {
        try {
            call.run();
            System.out.println("PASS " + name);
            return true;
        } catch (Throwable t) {
            System.out.println("FAIL " + name + ": " + t);
            t.printStackTrace(System.out);
            return false;
        }
    }
}
