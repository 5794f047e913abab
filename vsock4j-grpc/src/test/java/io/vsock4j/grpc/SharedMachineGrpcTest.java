package io.vsock4j.grpc;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.shared.SharedMachine;
import io.vsock4j.transport.shared.SharedMachineDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * gRPC between two JVMs on one shared machine: this JVM joins first (so the machine's daemon is its
 * child, ended after the test), a second JVM ({@link GrpcPeerMain}) serves {@link TextService}, and a
 * channel here makes unary, server-streaming and bidirectional calls to it over CID 1.
 */
class SharedMachineGrpcTest {
    @TempDir
    Path tmp;

    private Path dir;
    private Machine machine;
    private Process peer;
    private ManagedChannel channel;

    @BeforeEach
    void join() throws Exception {
        dir = Files.createDirectory(tmp.resolve("machine"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        machine = SharedMachine.connect(dir, Duration.ofSeconds(1));
    }

    @AfterEach
    void leave() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        if (peer != null) {
            peer.getOutputStream().close(); // its stdin: it shuts down and leaves
            if (!peer.waitFor(10, TimeUnit.SECONDS)) {
                peer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        machine.close();
        ProcessHandle.current().children()
                .filter(p -> p.info().commandLine().map(c -> c.contains(SharedMachineDaemon.class.getName())
                        && c.contains(dir.toString())).orElse(false))
                .forEach(d -> {
                    d.destroyForcibly();
                    d.onExit().join();
                });
    }

    @Test
    void callsReachAServerInAnotherProcess() throws Exception {
        int port = 7100;
        peer = GrpcPeerMain.start(dir, port);
        channel = VsockGrpc.channelBuilder(machine, VsockAddress.of(VsockAddress.CID_LOCAL, port)).build();

        assertThat(ClientCalls.blockingUnaryCall(channel, TextService.ECHO, CallOptions.DEFAULT, "across")).isEqualTo("echo: across");
        List<String> counted = new ArrayList<>();
        ClientCalls.blockingServerStreamingCall(channel, TextService.COUNT, CallOptions.DEFAULT, "500").forEachRemaining(counted::add);
        assertThat(counted).containsExactlyElementsOf(IntStream.rangeClosed(1, 500).mapToObj(Integer::toString).toList());
        List<String> sent = IntStream.range(0, 100).mapToObj(i -> "line " + i).toList();
        assertThat(TextService.chat(channel, sent)).containsExactlyElementsOf(sent.stream().map(s -> s.toUpperCase(java.util.Locale.ROOT)).toList());
        String big = "vsock".repeat(400_000); // 2 MB through the daemon
        assertThat(ClientCalls.blockingUnaryCall(channel, TextService.ECHO, CallOptions.DEFAULT, big)).isEqualTo("echo: " + big);
    }
}
