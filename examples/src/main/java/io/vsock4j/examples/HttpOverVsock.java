package io.vsock4j.examples;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.vsock4j.SocketProvider;
import io.vsock4j.Vsock;
import io.vsock4j.VsockAddress;
import io.vsock4j.net.VsockSocketFactory;
import io.vsock4j.netty.VsockIoHandler;
import io.vsock4j.netty.VsockServerChannel;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * HTTP over vsock, both ends off the shelf: a Netty HTTP server on vsock4j's Netty transport, and OkHttp
 * as the client through {@link VsockSocketFactory}, so OkHttp itself is unchanged. The server answers
 * {@code GET /hello} with a greeting and echoes the body of any POST.
 *
 * <pre>java io.vsock4j.examples.HttpOverVsock serve PORT [PROVIDER]
 * java io.vsock4j.examples.HttpOverVsock get CID PORT PATH [PROVIDER]</pre>
 */
public final class HttpOverVsock {
    private HttpOverVsock() {
    }

    /** A running server: its channel and its event loops; close to stop both. */
    public record Server(Channel channel, EventLoopGroup loops) implements AutoCloseable {
        @Override
        public void close() {
            channel.close().syncUninterruptibly();
            loops.shutdownGracefully().syncUninterruptibly();
        }
    }

    /** Serves HTTP on (any CID, {@code port}) of {@code provider}. */
    public static Server serve(SocketProvider provider, int port) throws InterruptedException {
        EventLoopGroup loops = new MultiThreadIoEventLoopGroup(VsockIoHandler.newFactory(provider));
        Channel channel = new ServerBootstrap().group(loops).channel(VsockServerChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpServerKeepAliveHandler(),
                                new HttpObjectAggregator(16 << 20), new Responder());
                    }
                })
                .bind(VsockAddress.of(VsockAddress.CID_ANY, port)).sync().channel();
        return new Server(channel, loops);
    }

    private static final class Responder extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            FullHttpResponse response;
            if (request.method().name().equals("POST")) {
                response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, request.content().retain());
            } else if (request.uri().equals("/hello")) {
                response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.copiedBuffer("hello over vsock from " + ctx.channel().localAddress() + "\n", StandardCharsets.UTF_8));
            } else {
                response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND);
            }
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            HttpUtil.setContentLength(response, response.content().readableBytes());
            HttpUtil.setKeepAlive(response, HttpUtil.isKeepAlive(request));
            ctx.writeAndFlush(response);
        }
    }

    /** An OkHttp client whose every connection goes to {@code cid} over vsock, at the URL's port. */
    public static OkHttpClient client(SocketProvider provider, int cid) {
        return new OkHttpClient.Builder().socketFactory(VsockSocketFactory.toCid(provider, cid)).build();
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("serve")) {
            SocketProvider provider = args.length > 2 ? Vsock.provider(args[2]) : Vsock.defaultProvider();
            Server server = serve(provider, Integer.parseInt(args[1]));
            System.out.println("serving HTTP on " + server.channel().localAddress());
            server.channel().closeFuture().sync();
        } else if (args.length >= 4 && args[0].equals("get")) {
            SocketProvider provider = args.length > 4 ? Vsock.provider(args[4]) : Vsock.defaultProvider();
            OkHttpClient http = client(provider, Integer.parseUnsignedInt(args[1]));
            try (Response r = http.newCall(new Request.Builder().url("http://localhost:" + args[2] + args[3]).build()).execute()) {
                System.out.print(r.body().string());
            }
        } else {
            throw new IOException("usage: HttpOverVsock serve PORT [PROVIDER] | get CID PORT PATH [PROVIDER]");
        }
    }
}
