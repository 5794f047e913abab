package io.vsock4j.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.vsock4j.MessageFlags;
import io.vsock4j.Readiness;
import io.vsock4j.SocketHandle;
import io.vsock4j.SocketProvider;
import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.util.concurrent.TimeUnit;

/**
 * A Netty stream channel over a vsock4j SOCK_STREAM socket: Netty's {@code SocketChannel} for vsock, on any
 * {@link SocketProvider} with the readiness API (every transport of the Java engine). Register it with a
 * {@code MultiThreadIoEventLoopGroup} made from {@link VsockIoHandler#newFactory()}.
 *
 * <h2>How the socket calls map</h2>
 * Every call is non-blocking. Connect is {@link SocketHandle#startConnect} (REQUEST sent; the engine's
 * timer enforces {@code CONNECT_TIMEOUT_MILLIS}) and, on {@link Readiness#CONNECTED},
 * {@link SocketHandle#finishConnect}, whose errno exception (ECONNRESET: nobody listens; ETIMEDOUT)
 * fails the connect promise. Reads are MSG_DONTWAIT receives into heap buffers on
 * {@link Readiness#READABLE}; writes are MSG_DONTWAIT sends from the buffer's own memory, heap or direct:
 * the Java engine copies either into its payload arrays once, and the kernel's socket takes either without
 * a copy in the JVM (only a composite of several buffers is first copied into a heap one, in
 * {@link #filterOutboundMessage}). A send that moves 0 bytes means the peer's credit window is full: the
 * channel stops flushing and waits for {@link Readiness#WRITABLE}, which the peer's CREDIT_UPDATE brings;
 * meanwhile Netty's outbound buffer grows past its high water mark and the channel turns unwritable, so a
 * slow reader holds back its writer end to end. {@link #shutdownOutput()} sends SHUTDOWN(SEND) and
 * {@link #shutdownInput()} SHUTDOWN(RCV); the peer's SHUTDOWN(SEND) reads as EOF, which raises
 * {@link ChannelInputShutdownEvent} when {@code ALLOW_HALF_CLOSURE} is set, else closes the channel, as
 * Netty's own socket channels do. Closing with writes still queued fails their promises.
 *
 * <h2>Addresses</h2>
 * {@link VsockAddress}, or Netty's {@code io.netty.channel.epoll.VSockAddress}; anything else fails the
 * bind or connect with an {@link IllegalArgumentException} naming the address.
 *
 * <h2>Threads</h2>
 * As every Netty channel: the public methods from any thread (they hop to the event loop), everything
 * else, including every field not marked volatile, on the channel's event loop only.
 */
public final class VsockChannel extends AbstractChannel implements DuplexChannel {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);
    /** A flushed buffer smaller than this is sent together with the ones after it, copied into {@link #gather}. */
    private static final int GATHER_BELOW_BYTES = 16 * 1024;
    /** At most this much is gathered into one send: one RW packet's payload (VirtioVsock.MAX_PACKET_PAYLOAD_BYTES). */
    private static final int GATHER_MAX_BYTES = 64 * 1024;

    private final VsockChannelConfig config;
    /** The provider this channel was made with, or null: then the config's, then the event loop's. */
    private final SocketProvider ownProvider;
    /** Opened at the first registration (or given, for an accepted channel); volatile for isActive from any thread. */
    private volatile SocketHandle socket;
    /** The registration and the {@link Readiness} bits asked of it. */
    private final VsockInterest interest = new VsockInterest();
    // Lifecycle, read by isOpen/isActive from any thread.
    private volatile boolean open = true;
    private volatile boolean active;
    private volatile boolean inputShutdown;
    private volatile boolean outputShutdown;
    private volatile VsockAddress local;
    private volatile VsockAddress remote;
    /** The connect under way, or null. */
    private ChannelPromise connectPromise;
    private VsockAddress connectingTo;
    private boolean readPending;
    /** EOF was read again after the input was shut: reads stop for good (Netty's ChannelInputShutdownReadComplete). */
    private boolean inputClosedSeenErrorOnRead;
    private final Runnable flushTask = () -> ((VsockUnsafe) unsafe()).flushNow();
    /** Where small flushed buffers are gathered for one send; made on first use. */
    private byte[] gather;

    /** A channel whose socket will be opened on its event loop's provider (or the SOCKET_PROVIDER option's). */
    public VsockChannel() {
        this((SocketProvider) null);
    }

    /** A channel whose socket will be opened on {@code provider}. */
    public VsockChannel(SocketProvider provider) {
        super(null);
        this.ownProvider = provider;
        this.config = new VsockChannelConfig(this);
    }

    /** An accepted channel: {@code accepted} is connected already. */
    VsockChannel(VsockServerChannel parent, SocketHandle accepted) {
        super(parent);
        this.ownProvider = null;
        this.config = new VsockChannelConfig(this);
        this.socket = accepted;
        this.active = true;
        this.local = accepted.localAddress();
        this.remote = accepted.remoteAddress();
    }

    @Override
    public VsockChannelConfig config() {
        return config;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public VsockServerChannel parent() {
        return (VsockServerChannel) super.parent();
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open && active;
    }

    @Override
    public VsockAddress localAddress() {
        return (VsockAddress) super.localAddress();
    }

    @Override
    public VsockAddress remoteAddress() {
        return (VsockAddress) super.remoteAddress();
    }

    @Override
    protected SocketAddress localAddress0() {
        SocketHandle s = socket;
        if (s != null && open) {
            VsockAddress now = s.localAddress();
            if (now != null) {
                local = now;
            }
        }
        return local;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return remote;
    }

    /** The vsock4j socket under this channel, or null before its first registration. */
    public SocketHandle socket() {
        return socket;
    }

    // ------------------------------------------------------------------------------------------------
    // Registration

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop instanceof IoEventLoop io && io.isCompatible(VsockUnsafe.class);
    }

    @Override
    protected void doRegister(ChannelPromise promise) {
        interest.register((IoEventLoop) eventLoop(), (VsockUnsafe) unsafe(), promise);
    }

    @Override
    protected void doDeregister() {
        interest.deregister();
    }

    // ------------------------------------------------------------------------------------------------
    // bind, close, shutdown

    @Override
    protected void doBind(SocketAddress localAddress) throws Exception {
        socket.bind(VsockAddresses.from(localAddress));
        local = socket.localAddress();
    }

    @Override
    protected void doDisconnect() throws Exception {
        doClose();
    }

    @Override
    protected void doClose() throws Exception {
        boolean wasOpen = open;
        open = false;
        interest.set(0);
        ChannelPromise connecting = connectPromise;
        if (connecting != null) {
            connecting.tryFailure(new ClosedChannelException());
            connectPromise = null;
        }
        SocketHandle s = socket;
        if (wasOpen && s != null) {
            s.close();
        }
    }

    @Override
    protected void doShutdownOutput() throws Exception {
        socket.shutdown(MessageFlags.SHUTDOWN_SEND);
        outputShutdown = true;
        interest.set(interest.bits() & ~Readiness.WRITABLE);
    }

    private void doShutdownInput() throws IOException {
        socket.shutdown(MessageFlags.SHUTDOWN_RECEIVE);
        inputShutdown = true;
    }

    @Override
    public boolean isInputShutdown() {
        return inputShutdown || !isActive();
    }

    @Override
    public boolean isOutputShutdown() {
        return outputShutdown || !isActive();
    }

    @Override
    public boolean isShutdown() {
        return (inputShutdown && outputShutdown) || !isActive();
    }

    @Override
    public ChannelFuture shutdownInput() {
        return shutdownInput(newPromise());
    }

    @Override
    public ChannelFuture shutdownInput(ChannelPromise promise) {
        inLoop(() -> {
            try {
                doShutdownInput();
                promise.setSuccess();
            } catch (Throwable t) {
                promise.setFailure(t);
            }
        });
        return promise;
    }

    @Override
    public ChannelFuture shutdownOutput() {
        return shutdownOutput(newPromise());
    }

    /** SHUTDOWN(SEND) to the peer, which reads EOF. As on Netty's socket channels, writes still queued fail. */
    @Override
    public ChannelFuture shutdownOutput(ChannelPromise promise) {
        inLoop(() -> ((VsockUnsafe) unsafe()).shutdownOutput(promise));
        return promise;
    }

    @Override
    public ChannelFuture shutdown() {
        return shutdown(newPromise());
    }

    @Override
    public ChannelFuture shutdown(ChannelPromise promise) {
        inLoop(() -> {
            ChannelPromise output = newPromise();
            ((VsockUnsafe) unsafe()).shutdownOutput(output);
            try {
                doShutdownInput();
            } catch (Throwable t) {
                promise.setFailure(output.cause() != null ? output.cause() : t);
                return;
            }
            if (output.cause() != null) {
                promise.setFailure(output.cause());
            } else {
                promise.setSuccess();
            }
        });
        return promise;
    }

    private void inLoop(Runnable task) {
        if (eventLoop().inEventLoop()) {
            task.run();
        } else {
            eventLoop().execute(task);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Reading and writing

    @Override
    protected void doBeginRead() {
        if (inputClosedSeenErrorOnRead) {
            return;
        }
        readPending = true;
        interest.set(interest.bits() | Readiness.READABLE);
    }

    /**
     * Heap buffers, and direct ones backed by one region of native memory, go to the socket as they are;
     * anything else (a composite of several) is copied into a heap buffer (see the class comment).
     */
    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf buf) {
            if (buf.hasArray() || (buf.isDirect() && buf.nioBufferCount() == 1)) {
                return buf;
            }
            ByteBuf heap = alloc().heapBuffer(buf.readableBytes());
            heap.writeBytes(buf, buf.readerIndex(), buf.readableBytes());
            ReferenceCountUtil.safeRelease(buf);
            return heap;
        }
        throw new UnsupportedOperationException("a VsockChannel writes ByteBufs, not " + msg.getClass().getName());
    }

    /**
     * Sends what is flushed with MSG_DONTWAIT until the peer's window is full (then waits for WRITABLE), the
     * buffer is empty, or the write spin count is used up. Several small buffers in a row (a gRPC frame's
     * header and body, say) are gathered into one send, so they travel as one RW packet instead of one
     * each: the engine makes a packet per send call.
     */
    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        int spins = config.getWriteSpinCount();
        while (spins-- > 0) {
            Object msg = in.current();
            if (msg == null) {
                interest.set(interest.bits() & ~Readiness.WRITABLE);
                return;
            }
            ByteBuf buf = (ByteBuf) msg;
            int readable = buf.readableBytes();
            if (readable == 0) {
                in.remove();
                continue;
            }
            int sent;
            if (readable < GATHER_BELOW_BYTES && in.size() > 1) {
                sent = sendGathered(in);
            } else if (buf.hasArray()) {
                sent = socket.send(buf.array(), buf.arrayOffset() + buf.readerIndex(), readable,
                        MessageFlags.MSG_DONTWAIT, 0);
            } else {
                // Direct: the socket reads the native memory itself (a view Netty keeps per buffer, no allocation).
                sent = socket.send(buf.internalNioBuffer(buf.readerIndex(), readable), MessageFlags.MSG_DONTWAIT, 0);
            }
            if (sent == 0) {
                // The peer's window is full: wait for its CREDIT_UPDATE (WRITABLE) before flushing again.
                interest.set(interest.bits() | Readiness.WRITABLE);
                return;
            }
            in.removeBytes(sent);
        }
        // Still more to write but this channel had its turn: let the loop's other work run first.
        interest.set(interest.bits() & ~Readiness.WRITABLE);
        eventLoop().execute(flushTask);
    }

    /**
     * Copies the flushed buffers, up to one packet's worth, into {@link #gather} and sends them at once.
     * Reads them through their ByteBuf indexes, not {@code nioBuffers()}: the outbound buffer caches those
     * ByteBuffers per entry and expects a partial write to have moved their positions, which a copy
     * followed by a short send would not.
     */
    private int sendGathered(ChannelOutboundBuffer in) throws Exception {
        if (gather == null) {
            gather = new byte[GATHER_MAX_BYTES];
        }
        gathered = 0;
        in.forEachFlushedMessage(gatherOne);
        return socket.send(gather, 0, gathered, MessageFlags.MSG_DONTWAIT, 0);
    }

    /** Bytes in {@link #gather} during {@link #sendGathered}. */
    private int gathered;
    /** Appends one flushed buffer to {@link #gather}; false once it is full. */
    private final ChannelOutboundBuffer.MessageProcessor gatherOne = msg -> {
        ByteBuf b = (ByteBuf) msg;
        int n = Math.min(b.readableBytes(), GATHER_MAX_BYTES - gathered);
        b.getBytes(b.readerIndex(), gather, gathered, n);
        gathered += n;
        return gathered < GATHER_MAX_BYTES;
    };

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new VsockUnsafe();
    }

    /** The channel's I/O on its event loop: the handle the {@link VsockIoHandler} calls. */
    private final class VsockUnsafe extends AbstractUnsafe implements VsockIoHandle {
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
        public void handle(IoRegistration r, IoEvent ioEvent) {
            if (!open) {
                return;
            }
            int ops = ((VsockIoEvent) ioEvent).readyOps();
            if ((ops & Readiness.CONNECTED) != 0) {
                finishConnect();
                return;
            }
            if ((ops & Readiness.WRITABLE) != 0) {
                interest.set(interest.bits() & ~Readiness.WRITABLE);
                super.flush0();
            }
            if ((ops & Readiness.READABLE) != 0 && open) {
                read();
            }
        }

        @Override
        public void close() {
            close(voidPromise());
        }

        @Override
        public void connect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
            if (!promise.setUncancellable() || !ensureOpen(promise)) {
                return;
            }
            try {
                if (connectPromise != null) {
                    throw new ConnectionPendingException();
                }
                if (active) {
                    throw new AlreadyConnectedException();
                }
                VsockAddress to = VsockAddresses.from(remoteAddress);
                if (localAddress != null) {
                    doBind(localAddress);
                }
                long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(config.getConnectTimeoutMillis());
                socket.startConnect(to, timeoutNanos);
                connectPromise = promise;
                connectingTo = to;
                interest.set(Readiness.CONNECTED);
            } catch (Throwable t) {
                promise.tryFailure(annotateConnectException(t, remoteAddress));
                closeIfClosed();
            }
        }

        private void finishConnect() {
            ChannelPromise promise = connectPromise;
            if (promise == null) {
                return;
            }
            try {
                if (!socket.finishConnect()) {
                    return; // told early: still waiting for the answer
                }
            } catch (Throwable t) {
                connectPromise = null;
                interest.set(0);
                promise.tryFailure(annotateConnectException(t, connectingTo));
                closeIfClosed();
                return;
            }
            connectPromise = null;
            remote = socket.remoteAddress();
            local = socket.localAddress();
            active = true;
            interest.set(interest.bits() & ~Readiness.CONNECTED);
            boolean promiseSet = promise.trySuccess();
            pipeline().fireChannelActive(); // reads start here when autoRead is on
            if (!promiseSet) {
                close(voidPromise()); // the user cancelled the connect meanwhile
            }
        }

        /** A flush while waiting for WRITABLE would only find the window still full: skip it. */
        @Override
        protected void flush0() {
            if ((interest.bits() & Readiness.WRITABLE) == 0) {
                super.flush0();
            }
        }

        void flushNow() {
            super.flush0();
        }

        private boolean shouldBreakReadReady() {
            return inputShutdown && (inputClosedSeenErrorOnRead || !config.isAllowHalfClosure());
        }

        private void read() {
            ChannelPipeline pipeline = pipeline();
            if (shouldBreakReadReady()) {
                readPending = false;
                interest.set(interest.bits() & ~Readiness.READABLE);
                return;
            }
            RecvByteBufAllocator.Handle allocHandle = recvBufAllocHandle();
            allocHandle.reset(config);
            ByteBuf buf = null;
            boolean eof = false;
            try {
                do {
                    buf = config.getAllocator().heapBuffer(allocHandle.guess());
                    allocHandle.attemptedBytesRead(buf.writableBytes());
                    int n = socket.receive(buf.array(), buf.arrayOffset() + buf.writerIndex(), buf.writableBytes(),
                            MessageFlags.MSG_DONTWAIT, 0, null);
                    allocHandle.lastBytesRead(n);
                    if (n <= 0) {
                        buf.release();
                        buf = null;
                        eof = n < 0;
                        if (eof) {
                            readPending = false;
                        }
                        break;
                    }
                    buf.writerIndex(buf.writerIndex() + n);
                    allocHandle.incMessagesRead(1);
                    readPending = false;
                    pipeline.fireChannelRead(buf);
                    buf = null;
                } while (allocHandle.continueReading());
                allocHandle.readComplete();
                pipeline.fireChannelReadComplete();
                if (eof) {
                    closeOnRead(pipeline);
                }
            } catch (Throwable t) {
                readFailed(pipeline, buf, t, allocHandle);
            } finally {
                if (!readPending && !config.isAutoRead()) {
                    interest.set(interest.bits() & ~Readiness.READABLE);
                }
            }
        }

        /** EOF: the peer shut SEND, or the connection ended. Half-closure keeps the channel open. */
        private void closeOnRead(ChannelPipeline pipeline) {
            if (!inputShutdown) {
                if (config.isAllowHalfClosure()) {
                    inputShutdown = true;
                    pipeline.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
                } else {
                    close(voidPromise());
                }
            } else if (!inputClosedSeenErrorOnRead) {
                inputClosedSeenErrorOnRead = true;
                interest.set(interest.bits() & ~Readiness.READABLE);
                pipeline.fireUserEventTriggered(ChannelInputShutdownReadComplete.INSTANCE);
            }
        }

        private void readFailed(ChannelPipeline pipeline, ByteBuf buf, Throwable cause, RecvByteBufAllocator.Handle allocHandle) {
            if (buf != null) {
                buf.release();
            }
            allocHandle.readComplete();
            pipeline.fireChannelReadComplete();
            pipeline.fireExceptionCaught(cause);
            if (cause instanceof IOException) {
                // ECONNRESET and friends: the connection is over. Input shut first so the close is not a half-close.
                inputShutdown = true;
                inputClosedSeenErrorOnRead = true;
                close(voidPromise());
            }
        }
    }
}
