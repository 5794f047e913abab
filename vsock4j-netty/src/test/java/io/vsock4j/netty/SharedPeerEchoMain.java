package io.vsock4j.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.shared.SharedMachine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The other process of {@link SharedMachineNettyTest}: {@code DIR PORT} joins the shared machine whose
 * rendezvous directory is DIR, serves a Netty echo on PORT over vsock4j-netty, prints {@code READY}, and
 * runs until its stdin closes (so it never outlives the test).
 */
public final class SharedPeerEchoMain {
    private SharedPeerEchoMain() {
    }

    /** Starts the peer in a new JVM with this test JVM's java and class path, and waits for READY. */
    static Process start(Path dir, int port) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                SharedPeerEchoMain.class.getName(), dir.toString(), Integer.toString(port)));
        Process peer = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (!"READY".equals(line)) {
            peer.destroyForcibly();
            throw new IllegalStateException("the peer's first line was '" + line + "', not READY");
        }
        return peer;
    }

    public static void main(String[] args) throws Exception {
        Machine machine = SharedMachine.connect(Path.of(args[0]), Duration.ofSeconds(1));
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory(machine));
        try {
            new ServerBootstrap().group(group).channel(VsockServerChannel.class)
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ctx.write(msg);
                        }

                        @Override
                        public void channelReadComplete(ChannelHandlerContext ctx) {
                            ctx.flush();
                        }
                    })
                    .bind(VsockAddress.of(VsockAddress.CID_ANY, Integer.parseInt(args[1]))).sync();
            System.out.println("READY");
            System.out.flush();
            while (System.in.read() >= 0) {
                // Runs until the test closes our stdin, or kills us.
            }
        } finally {
            group.shutdownGracefully().syncUninterruptibly();
            machine.close();
        }
    }
}
