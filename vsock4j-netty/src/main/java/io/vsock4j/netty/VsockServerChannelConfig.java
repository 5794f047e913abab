package io.vsock4j.netty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.ServerChannelRecvByteBufAllocator;
import io.vsock4j.SocketProvider;

import java.util.Map;

/**
 * The configuration of a {@link VsockServerChannel}: Netty's common options, {@link ChannelOption#SO_BACKLOG}
 * (listen(2)'s backlog, read at bind) and {@link VsockChannelOption#SOCKET_PROVIDER}. Any thread.
 */
public final class VsockServerChannelConfig extends DefaultChannelConfig {
    /** Linux's default somaxconn. */
    private volatile int backlog = 4096;
    private volatile SocketProvider provider;

    VsockServerChannelConfig(Channel channel) {
        // Accepts read no bytes: this allocator keeps accepting up to its message limit regardless.
        super(channel, new ServerChannelRecvByteBufAllocator());
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(super.getOptions(), ChannelOption.SO_BACKLOG, VsockChannelOption.SOCKET_PROVIDER);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(ChannelOption<T> option) {
        if (option == ChannelOption.SO_BACKLOG) {
            return (T) Integer.valueOf(backlog);
        }
        if (option == VsockChannelOption.SOCKET_PROVIDER) {
            return (T) provider;
        }
        return super.getOption(option);
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);
        if (option == ChannelOption.SO_BACKLOG) {
            backlog = (Integer) value;
        } else if (option == VsockChannelOption.SOCKET_PROVIDER) {
            provider = (SocketProvider) value;
        } else {
            return super.setOption(option, value);
        }
        return true;
    }

    int backlog() {
        return backlog;
    }

    SocketProvider provider() {
        return provider;
    }
}
