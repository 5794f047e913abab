package io.vsock4j.netty;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.util.concurrent.ThreadAwareExecutor;
import io.vsock4j.Readiness;
import io.vsock4j.SocketHandle;
import io.vsock4j.SocketProvider;
import io.vsock4j.Vsock;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * The event-loop half of the vsock4j Netty transport: what epoll is to Netty's epoll transport, built on
 * vsock4j's readiness API ({@link Readiness}) instead of a kernel descriptor, so it runs on every socket
 * provider that has one (every transport of the Java engine).
 *
 * <h2>How a loop iteration goes</h2>
 * Each registered socket has a {@link Readiness.Listener}; when the engine calls it (from a transport's
 * delivery thread, the machine's timer, or this very loop while it sends), it puts the registration on
 * {@link #ready} once (its {@code queued} flag) and unparks the loop thread if that is parked. {@link #run}
 * parks only when {@link #ready} is empty and Netty allows blocking, for at most the time until the next
 * scheduled task; it then takes up to {@link #MAX_HANDLES_PER_RUN} registrations off the queue, asks each
 * socket for its ready set, and calls the channel for the bits it is interested in. Readiness is
 * level-triggered as epoll's default is: a registration whose interesting bits still hold after its
 * handle ran goes back on the queue (so a channel that stopped reading at maxMessagesPerRead continues
 * on the next iteration, after the loop's tasks), and a change of interest re-checks at once (readiness
 * that came before the submit is not lost). An idle loop sleeps in {@code parkNanos}: nothing polls.
 *
 * <h2>Threads</h2>
 * {@link #run}, {@link #register}, {@link #prepareToDestroy} and {@link #destroy} run on the loop's
 * thread; {@link #wakeup} and the listeners on any thread. {@link #registrations} is the loop thread's
 * alone; {@link #ready} is a lock-free queue any thread adds to and the loop thread drains;
 * {@link #parked} pairs with it (Dekker style: a listener adds, then reads {@code parked}; the loop writes
 * {@code parked}, then reads the queue; both volatile, so one of them sees the other).
 */
public final class VsockIoHandler implements IoHandler {
    /** Registrations handled per {@link #run} at most, so tasks and other loops' work are not starved. */
    static final int MAX_HANDLES_PER_RUN = 1024;

    private final ThreadAwareExecutor executor;
    private final SocketProvider provider;
    /** Loop thread only. */
    private final Set<Registration> registrations = new HashSet<>();
    /** Registrations whose socket may have become ready; any thread adds, the loop drains. */
    private final ConcurrentLinkedQueue<Registration> ready = new ConcurrentLinkedQueue<>();
    /** Reused for every handle call; loop thread only. */
    private final VsockIoEvent event = new VsockIoEvent();
    /** The thread that runs {@link #run}; set on its first call. */
    private volatile Thread loopThread;
    /** True while the loop thread is parked or about to park; see the class comment. */
    private volatile boolean parked;

    private VsockIoHandler(ThreadAwareExecutor executor, SocketProvider provider) {
        this.executor = Objects.requireNonNull(executor, "executor");
        this.provider = provider;
    }

    /**
     * A factory for {@code new MultiThreadIoEventLoopGroup(n, VsockIoHandler.newFactory())}: channels made
     * without a provider open their sockets on {@link Vsock#defaultProvider()} (the process's default
     * machine, with the Java loopback at CID 1), looked up when the first channel registers.
     */
    public static IoHandlerFactory newFactory() {
        return executor -> new VsockIoHandler(executor, null);
    }

    /** A factory whose channels, unless made with a provider of their own, open their sockets on {@code provider}. */
    public static IoHandlerFactory newFactory(SocketProvider provider) {
        Objects.requireNonNull(provider, "provider");
        return executor -> new VsockIoHandler(executor, provider);
    }

    /** The provider channels registered here open their sockets on, unless they have their own. */
    SocketProvider provider() {
        return provider != null ? provider : Vsock.defaultProvider();
    }

    @Override
    public int run(IoHandlerContext context) {
        if (loopThread == null) {
            loopThread = Thread.currentThread();
        }
        if (context.canBlock() && ready.isEmpty()) {
            parked = true;
            try {
                if (ready.isEmpty()) {
                    LockSupport.parkNanos(this, context.delayNanos(System.nanoTime()));
                }
            } finally {
                parked = false;
            }
        }
        long start = context.shouldReportActiveIoTime() ? System.nanoTime() : 0;
        int handled = 0;
        for (int i = 0; i < MAX_HANDLES_PER_RUN; i++) {
            Registration r = ready.poll();
            if (r == null) {
                break;
            }
            if (r.process()) {
                handled++;
            }
        }
        if (context.shouldReportActiveIoTime()) {
            context.reportActiveIoTime(System.nanoTime() - start);
        }
        return handled;
    }

    @Override
    public void wakeup() {
        Thread thread = loopThread;
        if (thread != null && thread != Thread.currentThread()) {
            LockSupport.unpark(thread);
        }
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        VsockIoHandle vsockHandle = cast(handle);
        SocketHandle socket = vsockHandle.socket(provider());
        Registration r = new Registration(vsockHandle, socket);
        registrations.add(r);
        socket.setReadinessListener(r);
        vsockHandle.registered();
        return r;
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return VsockIoHandle.class.isAssignableFrom(handleType);
    }

    @Override
    public void prepareToDestroy() {
        for (Registration r : new ArrayList<>(registrations)) {
            try {
                r.handle.close();
            } catch (Exception ignored) {
                // The loop is going away; a failing close has no one left to tell.
            }
        }
    }

    @Override
    public void destroy() {
        for (Registration r : new ArrayList<>(registrations)) {
            r.cancel();
        }
        ready.clear();
    }

    private static VsockIoHandle cast(IoHandle handle) {
        if (handle instanceof VsockIoHandle h) {
            return h;
        }
        throw new IllegalArgumentException("IoHandle of type " + handle.getClass().getName()
                + " cannot register with a VsockIoHandler (it takes the vsock4j channels' handles)");
    }

    /**
     * One socket on this loop: its interest (loop thread), its listener (any thread), its place on the
     * ready queue.
     */
    private final class Registration implements IoRegistration, Readiness.Listener {
        final VsockIoHandle handle;
        final SocketHandle socket;
        /** Whether this registration is on {@link #ready} already; cleared by the loop before it asks the socket. */
        private final AtomicBoolean queued = new AtomicBoolean();
        private final AtomicBoolean cancelled = new AtomicBoolean();
        /** {@link Readiness} bits the channel waits for; written on the loop thread. */
        private volatile int interest;

        Registration(VsockIoHandle handle, SocketHandle socket) {
            this.handle = handle;
            this.socket = socket;
        }

        /** The engine's call: record and wake, nothing else (see {@link Readiness.Listener}). */
        @Override
        public void readinessChanged() {
            if (!cancelled.get() && queued.compareAndSet(false, true)) {
                ready.add(this);
                if (parked) {
                    LockSupport.unpark(loopThread);
                }
            }
        }

        /** Loop thread: asks the socket and tells the channel. Returns whether the handle was called. */
        boolean process() {
            queued.set(false);
            if (cancelled.get()) {
                return false;
            }
            int ops = socket.readyOps() & interest;
            if (ops == 0) {
                return false;
            }
            handle.handle(this, event.set(ops));
            // Level-triggered: still ready for what it waits for (it stopped at its read limit, say)?
            // Then again on the next iteration, after the loop's tasks.
            if (!cancelled.get() && (socket.readyOps() & interest) != 0) {
                readinessChanged();
            }
            return true;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T attachment() {
            return (T) socket;
        }

        /** Sets the interest to a {@link VsockIoOps}' bits and re-checks readiness at once; returns the bits. */
        @Override
        public long submit(IoOps ops) {
            if (!(ops instanceof VsockIoOps v)) {
                throw new IllegalArgumentException("a VsockIoHandler takes VsockIoOps, not " + ops);
            }
            int before = interest;
            interest = v.readiness();
            if ((v.readiness() & ~before) != 0) {
                readinessChanged();
            }
            return v.readiness();
        }

        @Override
        public boolean isValid() {
            return !cancelled.get();
        }

        @Override
        public boolean cancel() {
            if (!cancelled.compareAndSet(false, true)) {
                return false;
            }
            socket.setReadinessListener(null);
            if (executor.isExecutorThread(Thread.currentThread())) {
                removed();
            } else {
                executor.execute(this::removed);
            }
            return true;
        }

        private void removed() {
            if (registrations.remove(this)) {
                handle.unregistered();
            }
        }
    }
}
