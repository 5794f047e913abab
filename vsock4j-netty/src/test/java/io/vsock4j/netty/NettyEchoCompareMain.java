package io.vsock4j.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.machines.Machines;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A quick same-run comparison of a Netty echo over vsock4j (CID 1, the Java loopback) against Netty's NIO
 * TCP loopback: throughput of a one-way stream echoed back (MiB/s of echoed bytes) and the round trip of
 * one byte (p50). Each transport is warmed up, then the rounds alternate; medians are printed. Not a
 * test and not JMH: a first look, with its command in docs/netty.md.
 *
 * <pre>
 * mvn -q -pl vsock4j-core,vsock4j-netty test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp "$(cat vsock4j-netty/target/cp.txt):vsock4j-netty/target/test-classes:vsock4j-netty/target/classes:vsock4j-core/target/classes" \
 *     io.vsock4j.netty.NettyEchoCompareMain [MiB per round, 256] [round trips per round, 20000] [rounds, 5]
 * </pre>
 */
public final class NettyEchoCompareMain {
    private NettyEchoCompareMain() {
    }

    /** One side of the comparison: how to make a loop group, a server channel, a client channel and an address. */
    private record Setup(String name, EventLoopGroup group, Class<? extends ServerChannel> server,
                         Class<? extends Channel> client, SocketAddress bind, SocketAddress connect) {
    }

    @ChannelHandler.Sharable
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    /** Counts echoed bytes; completes {@link #done} at the target. */
    private static final class Counter extends ChannelInboundHandlerAdapter {
        volatile long target;
        long received;
        volatile CompletableFuture<Void> done = new CompletableFuture<>();
        /** Runs on the loop when the channel turns writable again: the streaming writer goes on. */
        volatile Runnable onWritable;

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            Runnable r = onWritable;
            if (r != null && ctx.channel().isWritable()) {
                r.run();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            received += b.readableBytes();
            b.release();
            if (received >= target) {
                received -= target;
                done.complete(null);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int trips = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        Machine machine = Machines.loopback();
        Setup vsock = new Setup("vsock4j CID 1", new MultiThreadIoEventLoopGroup(2, VsockIoHandler.newFactory(machine)),
                VsockServerChannel.class, VsockChannel.class, VsockAddress.of(VsockAddress.CID_ANY, 9000), VsockAddress.local(9000));
        Setup tcp = new Setup("NIO TCP 127.0.0.1", new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory()),
                NioServerSocketChannel.class, NioSocketChannel.class, new InetSocketAddress("127.0.0.1", 0), null);
        Setup[] setups = {vsock, tcp};
        Channel[] servers = new Channel[2];
        Channel[] clients = new Channel[2];
        Counter[] counters = new Counter[2];
        for (int i = 0; i < 2; i++) {
            Setup s = setups[i];
            servers[i] = new ServerBootstrap().group(s.group()).channel(s.server()).childHandler(new Echo()).bind(s.bind()).sync().channel();
            SocketAddress to = s.connect() != null ? s.connect() : servers[i].localAddress();
            counters[i] = new Counter();
            clients[i] = new Bootstrap().group(s.group()).channel(s.client()).handler(counters[i]).connect(to).sync().channel();
        }
        double[][] throughput = new double[2][rounds];
        double[][] p50 = new double[2][rounds];
        for (int i = 0; i < 2; i++) { // warm-up
            stream(clients[i], counters[i], Math.max(16, mib / 4));
            roundTrips(clients[i], counters[i], trips / 4);
        }
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < 2; i++) {
                throughput[i][r] = stream(clients[i], counters[i], mib);
                p50[i][r] = roundTrips(clients[i], counters[i], trips);
            }
        }
        for (int i = 0; i < 2; i++) {
            System.out.printf("%-18s echo %8.1f MiB/s   round trip p50 %6.1f us%n", setups[i].name(), median(throughput[i]), median(p50[i]));
        }
        System.out.printf("ratio vsock/TCP    echo %8.2f x        round trip p50 %6.2f x%n",
                median(throughput[0]) / median(throughput[1]), median(p50[0]) / median(p50[1]));
        for (int i = 0; i < 2; i++) {
            clients[i].close().sync();
            servers[i].close().sync();
            setups[i].group().shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        machine.close();
    }

    /** Streams {@code mib} MiB in 64 KiB writes, honouring writability, until all came back: echoed MiB/s. */
    private static double stream(Channel client, Counter counter, int mib) throws Exception {
        long total = (long) mib << 20;
        counter.target = total;
        counter.done = new CompletableFuture<>();
        long start = System.nanoTime();
        Runnable writer = new Runnable() {
            long sent;

            @Override
            public void run() {
                while (sent < total && client.isWritable()) {
                    int n = (int) Math.min(64 * 1024, total - sent);
                    client.write(client.alloc().buffer(n).writerIndex(n));
                    sent += n;
                }
                client.flush(); // unwritable now, or done: channelWritabilityChanged runs this again
            }
        };
        counter.onWritable = writer;
        client.eventLoop().execute(writer);
        counter.done.get(120, TimeUnit.SECONDS);
        counter.onWritable = null;
        return mib / ((System.nanoTime() - start) / 1e9);
    }

    /** {@code n} one-byte round trips, one at a time: the median in microseconds. */
    private static double roundTrips(Channel client, Counter counter, int n) throws Exception {
        long[] nanos = new long[n];
        counter.target = 1;
        for (int i = 0; i < n; i++) {
            counter.done = new CompletableFuture<>();
            long start = System.nanoTime();
            client.writeAndFlush(client.alloc().buffer(1).writeByte(i));
            counter.done.get(10, TimeUnit.SECONDS);
            nanos[i] = System.nanoTime() - start;
        }
        Arrays.sort(nanos);
        return nanos[n / 2] / 1e3;
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v[v.length / 2];
    }
}
