package io.vsock4j.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
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
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Netty transport between two JVMs on one shared machine: this JVM joins first (so the machine's
 * daemon is its child, ended after the test), a second JVM ({@link SharedPeerEchoMain}) serves a Netty
 * echo, and a Netty client here sends it seeded random bytes over CID 1 and checks the echo's CRC.
 */
class SharedMachineNettyTest {
    static {
        LeakRecorder.install();
    }

    @TempDir
    Path tmp;

    private Path dir;
    private Machine machine;
    private EventLoopGroup group;
    private Process peer;

    @BeforeEach
    void join() throws Exception {
        dir = Files.createDirectory(tmp.resolve("machine"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        machine = SharedMachine.connect(dir, Duration.ofSeconds(1));
        group = new MultiThreadIoEventLoopGroup(1, VsockIoHandler.newFactory(machine));
    }

    @AfterEach
    void leave() throws Exception {
        if (peer != null) {
            peer.getOutputStream().close(); // its stdin: it shuts down and leaves
            if (!peer.waitFor(10, TimeUnit.SECONDS)) {
                peer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        machine.close();
        // End the daemon this JVM started for the directory (and only that one).
        ProcessHandle.current().children()
                .filter(p -> p.info().commandLine().map(c -> c.contains(SharedMachineDaemon.class.getName())
                        && c.contains(dir.toString())).orElse(false))
                .forEach(d -> {
                    d.destroyForcibly();
                    d.onExit().join();
                });
        assertThat(LeakRecorder.collectLeaks()).as("buffers Netty's leak detector found unreleased").isEmpty();
    }

    @Test
    void echoesBetweenTwoProcessesOnTheSharedMachine() throws Exception {
        long seed = Long.getLong("vsock4j.test.seed", System.nanoTime());
        System.out.println("SharedMachineNettyTest seed " + seed + " (-Dvsock4j.test.seed=N to replay)");
        SplittableRandom random = new SplittableRandom(seed);
        int port = 6000 + random.nextInt(1000);
        peer = SharedPeerEchoMain.start(dir, port);

        byte[] data = new byte[1 + random.nextInt(4 << 20)];
        random.nextBytes(data);
        CRC32 expected = new CRC32();
        expected.update(data);
        CRC32 got = new CRC32();
        AtomicLong bytes = new AtomicLong();
        CompletableFuture<Long> done = new CompletableFuture<>();
        Channel client = new Bootstrap().group(group).channel(VsockChannel.class)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf buf = (ByteBuf) msg;
                        byte[] b = new byte[buf.readableBytes()];
                        buf.readBytes(b);
                        buf.release();
                        got.update(b); // the loop's thread only
                        if (bytes.addAndGet(b.length) == data.length) {
                            done.complete(got.getValue());
                        }
                    }
                })
                .connect(VsockAddress.local(port)).sync().channel();
        client.writeAndFlush(Unpooled.wrappedBuffer(data));
        assertThat(done.get(60, TimeUnit.SECONDS)).isEqualTo(expected.getValue());
        client.close().sync();
    }
}
