package io.vsock4j.netty;

import io.netty.channel.ChannelOption;
import io.vsock4j.SocketProvider;

/**
 * Options of the vsock channels beyond Netty's own. Set them with {@code Bootstrap.option} (and
 * {@code ServerBootstrap.option} for the listener); they are read when the channel registers.
 */
public final class VsockChannelOption<T> extends ChannelOption<T> {
    /**
     * The vsock4j machine (or other {@link SocketProvider}) the channel opens its socket on. Unset, the
     * channel takes its event loop's ({@link VsockIoHandler#newFactory(SocketProvider)}), which defaults
     * to {@link io.vsock4j.Vsock#defaultProvider()}. An accepted channel lives on its listener's.
     */
    public static final ChannelOption<SocketProvider> SOCKET_PROVIDER = valueOf(VsockChannelOption.class, "SOCKET_PROVIDER");

    @SuppressWarnings("unused")
    private VsockChannelOption() {
        super(null);
    }
}
