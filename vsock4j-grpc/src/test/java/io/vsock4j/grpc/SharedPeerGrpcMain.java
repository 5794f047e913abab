package io.vsock4j.grpc;

import io.grpc.Server;
import io.netty.channel.EventLoopGroup;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.shared.SharedMachine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The other process of {@link SharedMachineGrpcTest}: {@code DIR PORT} joins the shared machine whose
 * rendezvous directory is DIR, serves {@link EchoService} over gRPC on PORT, prints {@code READY}, and runs
 * until its stdin closes (so it never outlives the test).
 */
public final class SharedPeerGrpcMain {
    private SharedPeerGrpcMain() {
    }

    /** Starts the peer in a new JVM with this test JVM's java and class path, and waits for READY. */
    static Process start(Path dir, int port) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process peer = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                SharedPeerGrpcMain.class.getName(), dir.toString(), Integer.toString(port)))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (!"READY".equals(line)) {
            peer.destroyForcibly();
            throw new IllegalStateException("the peer's first line was '" + line + "', not READY");
        }
        return peer;
    }

    public static void main(String[] args) throws Exception {
        Machine machine = SharedMachine.connect(Path.of(args[0]), Duration.ofSeconds(1));
        EventLoopGroup group = VsockGrpc.newEventLoopGroup(1, machine);
        Server server = VsockGrpc.serverBuilder(VsockAddress.of(VsockAddress.CID_ANY, Integer.parseInt(args[1])), group)
                .addService(EchoService.definition()).build().start();
        try {
            System.out.println("READY");
            System.out.flush();
            while (System.in.read() >= 0) {
                // Runs until the test closes our stdin, or kills us.
            }
        } finally {
            server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
            machine.close();
        }
    }
}
