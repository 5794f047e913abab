package io.vsock4j.netty;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.PreferHeapByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DuplexChannelConfig;
import io.vsock4j.SocketProvider;

import java.util.Map;

/**
 * The configuration of a {@link VsockChannel}: Netty's common options, {@link ChannelOption#ALLOW_HALF_CLOSURE}
 * (the peer's SHUTDOWN of sending then raises {@code ChannelInputShutdownEvent} instead of closing) and
 * {@link VsockChannelOption#SOCKET_PROVIDER}. {@link ChannelOption#SO_KEEPALIVE} is kept and does
 * nothing, as on Linux's AF_VSOCK (the socket layer stores the flag; vsock sends no keepalive probes):
 * clients such as grpc-netty set it on every channel. Flow control needs no option of its own: the peer's credit
 * window is what stops writes, and Netty's write-buffer water marks turn that into channel writability.
 * The allocator prefers heap buffers (see the constructor).
 * Any thread, as Netty's configs (the fields are volatile).
 */
public final class VsockChannelConfig extends DefaultChannelConfig implements DuplexChannelConfig {
    private volatile boolean allowHalfClosure;
    private volatile SocketProvider provider;
    private volatile boolean keepAlive;

    VsockChannelConfig(Channel channel) {
        super(channel);
        // The engine's payloads are arrays: buffers handlers take from ctx.alloc() are heap ones by default,
        // so writing them costs no copy into heap (VsockChannel.filterOutboundMessage). Netty's NIO and epoll
        // channels prefer direct buffers for the same reason the other way round.
        super.setAllocator(new PreferHeapByteBufAllocator(ByteBufAllocator.DEFAULT));
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(super.getOptions(), ChannelOption.ALLOW_HALF_CLOSURE, ChannelOption.SO_KEEPALIVE,
                VsockChannelOption.SOCKET_PROVIDER);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(ChannelOption<T> option) {
        if (option == ChannelOption.ALLOW_HALF_CLOSURE) {
            return (T) Boolean.valueOf(allowHalfClosure);
        }
        if (option == ChannelOption.SO_KEEPALIVE) {
            return (T) Boolean.valueOf(keepAlive);
        }
        if (option == VsockChannelOption.SOCKET_PROVIDER) {
            return (T) provider;
        }
        return super.getOption(option);
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);
        if (option == ChannelOption.ALLOW_HALF_CLOSURE) {
            setAllowHalfClosure((Boolean) value);
        } else if (option == ChannelOption.SO_KEEPALIVE) {
            keepAlive = (Boolean) value;
        } else if (option == VsockChannelOption.SOCKET_PROVIDER) {
            provider = (SocketProvider) value;
        } else {
            return super.setOption(option, value);
        }
        return true;
    }

    /** The provider set with {@link VsockChannelOption#SOCKET_PROVIDER}, or null. */
    SocketProvider provider() {
        return provider;
    }

    @Override
    public boolean isAllowHalfClosure() {
        return allowHalfClosure;
    }

    @Override
    public VsockChannelConfig setAllowHalfClosure(boolean allow) {
        allowHalfClosure = allow;
        return this;
    }

    @Override
    @Deprecated
    public VsockChannelConfig setMaxMessagesPerRead(int maxMessagesPerRead) {
        super.setMaxMessagesPerRead(maxMessagesPerRead);
        return this;
    }

    @Override
    public VsockChannelConfig setWriteSpinCount(int writeSpinCount) {
        super.setWriteSpinCount(writeSpinCount);
        return this;
    }

    @Override
    public VsockChannelConfig setAllocator(ByteBufAllocator allocator) {
        super.setAllocator(allocator);
        return this;
    }

    @Override
    public VsockChannelConfig setRecvByteBufAllocator(RecvByteBufAllocator allocator) {
        super.setRecvByteBufAllocator(allocator);
        return this;
    }

    @Override
    public VsockChannelConfig setAutoRead(boolean autoRead) {
        super.setAutoRead(autoRead);
        return this;
    }

    @Override
    public VsockChannelConfig setAutoClose(boolean autoClose) {
        super.setAutoClose(autoClose);
        return this;
    }

    @Override
    public VsockChannelConfig setMessageSizeEstimator(MessageSizeEstimator estimator) {
        super.setMessageSizeEstimator(estimator);
        return this;
    }

    @Override
    public VsockChannelConfig setWriteBufferWaterMark(WriteBufferWaterMark writeBufferWaterMark) {
        super.setWriteBufferWaterMark(writeBufferWaterMark);
        return this;
    }
}
