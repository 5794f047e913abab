package io.vsock4j.netty;

import io.netty.channel.AbstractServerChannel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.RecvByteBufAllocator;
import io.vsock4j.Readiness;
import io.vsock4j.SocketHandle;
import io.vsock4j.SocketProvider;
import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;

import java.io.IOException;
import java.net.SocketAddress;

/**
 * A Netty server channel over a listening vsock4j SOCK_STREAM socket: bind is bind(2) and listen(2)
 * (backlog from {@code SO_BACKLOG}); on {@link Readiness#ACCEPTABLE} it takes queued connections with
 * {@link SocketHandle#tryAccept()}, up to the read allocator's message limit per turn, and passes each on
 * as a {@link VsockChannel} (ServerBootstrap registers it with the child group). The socket comes from
 * the provider given to the constructor, else {@link VsockChannelOption#SOCKET_PROVIDER}, else the event
 * loop's.
 *
 * <p>Threads: as every Netty channel; fields not marked volatile belong to the event loop.
 */
public final class VsockServerChannel extends AbstractServerChannel {
    private final VsockServerChannelConfig config;
    private final SocketProvider ownProvider;
    private volatile SocketHandle socket;
    /** The registration and whether it asks for ACCEPTABLE. */
    private final VsockInterest interest = new VsockInterest();
    private volatile boolean open = true;
    private volatile boolean listening;
    private volatile VsockAddress local;

    public VsockServerChannel() {
        this(null);
    }

    /** A server channel whose socket is opened on {@code provider}. */
    public VsockServerChannel(SocketProvider provider) {
        this.ownProvider = provider;
        this.config = new VsockServerChannelConfig(this);
    }

    @Override
    public VsockServerChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open && listening;
    }

    @Override
    public VsockAddress localAddress() {
        return (VsockAddress) super.localAddress();
    }

    @Override
    protected SocketAddress localAddress0() {
        return local;
    }

    /** The listening vsock4j socket, or null before registration. */
    public SocketHandle socket() {
        return socket;
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop instanceof IoEventLoop io && io.isCompatible(ServerUnsafe.class);
    }

    @Override
    protected void doRegister(ChannelPromise promise) {
        interest.register((IoEventLoop) eventLoop(), (ServerUnsafe) unsafe(), promise);
    }

    @Override
    protected void doDeregister() {
        interest.deregister();
    }

    @Override
    protected void doBind(SocketAddress localAddress) throws Exception {
        socket.bind(VsockAddresses.from(localAddress));
        socket.listen(config.backlog());
        local = socket.localAddress();
        listening = true;
    }

    @Override
    protected void doClose() throws Exception {
        boolean wasOpen = open;
        open = false;
        setAcceptInterest(false);
        if (wasOpen && socket != null) {
            socket.close();
        }
    }

    @Override
    protected void doBeginRead() {
        setAcceptInterest(true);
    }

    private void setAcceptInterest(boolean on) {
        interest.set(on ? Readiness.ACCEPTABLE : 0);
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new ServerUnsafe();
    }

    /** The listener's I/O on its event loop: the handle the {@link VsockIoHandler} calls. */
    private final class ServerUnsafe extends AbstractUnsafe implements VsockIoHandle {
        @Override
        public SocketHandle socket(SocketProvider loopProvider) throws IOException {
            SocketHandle s = socket;
            if (s == null) {
                SocketProvider p = ownProvider != null ? ownProvider
                        : config.provider() != null ? config.provider() : loopProvider;
                s = p.open(SocketType.STREAM);
                socket = s;
            }
            return s;
        }

        @Override
        public void connect(SocketAddress remote, SocketAddress localAddress, ChannelPromise promise) {
            safeSetFailure(promise, new UnsupportedOperationException("a VsockServerChannel accepts; it does not connect"));
        }

        @Override
        public void close() {
            close(voidPromise());
        }

        @Override
        public void handle(IoRegistration r, IoEvent event) {
            if (!open || (((VsockIoEvent) event).readyOps() & Readiness.ACCEPTABLE) == 0) {
                return;
            }
            ChannelPipeline pipeline = pipeline();
            RecvByteBufAllocator.Handle allocHandle = recvBufAllocHandle();
            allocHandle.reset(config);
            Throwable failure = null;
            try {
                do {
                    SocketHandle child = socket.tryAccept();
                    if (child == null) {
                        break;
                    }
                    allocHandle.incMessagesRead(1);
                    pipeline.fireChannelRead(new VsockChannel(VsockServerChannel.this, child));
                } while (allocHandle.continueReading());
            } catch (Throwable t) {
                failure = t;
            }
            allocHandle.readComplete();
            pipeline.fireChannelReadComplete();
            if (failure != null) {
                pipeline.fireExceptionCaught(failure);
                if (failure instanceof IOException && !socket.isClosed()) {
                    // tryAccept's failure is the listener's end (its machine's port space is gone).
                    close(voidPromise());
                }
            }
            if (!config.isAutoRead()) {
                setAcceptInterest(false);
            }
        }
    }
}
