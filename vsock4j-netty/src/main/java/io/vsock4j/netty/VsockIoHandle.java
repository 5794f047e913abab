package io.vsock4j.netty;

import io.netty.channel.IoHandle;
import io.vsock4j.SocketHandle;
import io.vsock4j.SocketProvider;

import java.io.IOException;

/**
 * What a {@link VsockIoHandler} can register: an {@link IoHandle} over one vsock4j socket. The channels'
 * unsafes implement it; the handler watches the socket's readiness and calls
 * {@link #handle(io.netty.channel.IoRegistration, io.netty.channel.IoEvent)} with a {@link VsockIoEvent}
 * when something the handle asked for (its {@link VsockIoOps}) is ready.
 *
 * <p>Threads: the handler calls every method on its event loop's thread.
 */
interface VsockIoHandle extends IoHandle {
    /**
     * The socket to watch, opened now from {@code provider} (the handler's) if the channel has none yet:
     * a channel made without a provider of its own takes its event loop's.
     */
    SocketHandle socket(SocketProvider provider) throws IOException;
}
