package io.vsock4j.grpc;

import io.grpc.ManagedChannel;
import io.netty.channel.EventLoopGroup;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.shared.SharedMachine;
import io.vsock4j.transport.shared.SharedMachineDaemon;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@link GrpcCallCases} between two JVMs on one shared machine: this JVM joins first (so the machine's
 * daemon is its child, ended after the class), a second JVM ({@link SharedPeerGrpcMain}) serves
 * {@link EchoService}, and the channel here dials it at CID 1. One peer for the whole class.
 */
class SharedMachineGrpcTest extends GrpcCallCases {
    private static final int PORT = 50061;

    @TempDir
    static Path tmp;

    private static Path dir;
    private static Machine machine;
    private static EventLoopGroup group;
    private static Process peer;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createDirectory(tmp.resolve("machine"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        machine = SharedMachine.connect(dir, Duration.ofSeconds(1));
        group = VsockGrpc.newEventLoopGroup(1, machine);
        peer = SharedPeerGrpcMain.start(dir, PORT);
        channel = VsockGrpc.channelBuilder(VsockAddress.local(PORT), group).build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        if (peer != null) {
            peer.getOutputStream().close(); // its stdin: it shuts down and leaves
            if (!peer.waitFor(10, TimeUnit.SECONDS)) {
                peer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (machine != null) {
            machine.close();
        }
        // End the daemon this JVM started for the directory (and only that one).
        ProcessHandle.current().children()
                .filter(p -> p.info().commandLine().map(c -> c.contains(SharedMachineDaemon.class.getName())
                        && c.contains(dir.toString())).orElse(false))
                .forEach(d -> {
                    d.destroyForcibly();
                    d.onExit().join();
                });
    }

    @Override
    protected ManagedChannel channel() {
        return channel;
    }
}
