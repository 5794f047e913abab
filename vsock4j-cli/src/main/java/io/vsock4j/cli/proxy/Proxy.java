package io.vsock4j.cli.proxy;

import io.vsock4j.cli.VsockCommand;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A running proxy: one acceptor thread takes connections from the {@link Inbound}, and a worker dials the
 * {@link Outbound} for each and relays it ({@link Relay}). At most {@code workers} connections are open at
 * once (vsock-proxy's {@code -w}): the acceptor takes a permit before it accepts, so further clients wait
 * in the listen backlog. Each connection uses two pool threads, one per direction, so the pool holds
 * {@code 2 * workers} threads at most; idle ones end after a while.
 *
 * <p>{@link #close()} (any thread) stops accepting, closes every open connection and waits for the
 * threads to end: nothing is left open, no thread left running. A dial that fails (a refused destination,
 * a connect error) closes the accepted connection and logs one line; the proxy goes on.
 */
final class Proxy implements AutoCloseable {
    private static final long IDLE_THREAD_SECONDS = 10;

    private final Inbound inbound;
    private final Outbound outbound;
    private final PrintStream log;
    private final Semaphore permits;
    private final ThreadPoolExecutor pool;
    private final Set<Relay> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger live = new AtomicInteger();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread acceptor;
    private volatile boolean closing;
    private volatile IOException failure;

    Proxy(Inbound inbound, Outbound outbound, int workers, PrintStream log) {
        this.inbound = inbound;
        this.outbound = outbound;
        this.log = log;
        this.permits = new Semaphore(workers);
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(2 * workers, 2 * workers, IDLE_THREAD_SECONDS, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> Thread.ofPlatform().daemon().name("vsock-proxy-" + n.incrementAndGet()).unstarted(r));
        this.pool.allowCoreThreadTimeOut(true);
        this.acceptor = Thread.ofPlatform().daemon().name("vsock-proxy-acceptor").unstarted(this::acceptLoop);
    }

    /** For the start-up line: where from, where to, how many at once. */
    String describe() {
        return inbound.describe() + " -> " + outbound.describe() + ", at most " + permits.availablePermits() + " connections at once";
    }

    /** The port listened on (the one chosen when 0 was asked for). */
    int port() {
        return inbound.port();
    }

    /** Starts accepting; the inbound is already bound. */
    Proxy start() {
        acceptor.start();
        return this;
    }

    /** Connections open now: accepted and not yet closed, including ones still dialing. */
    int openConnections() {
        return live.get();
    }

    /** Blocks until the proxy has stopped: {@link #close()}, or accepting failed ({@link #failure()}). */
    void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /** Why accepting stopped when nobody closed the proxy, or null. */
    IOException failure() {
        return failure;
    }

    private void acceptLoop() {
        try {
            while (!closing) {
                permits.acquire();
                End accepted;
                try {
                    accepted = inbound.accept();
                } catch (IOException e) {
                    permits.release();
                    if (!closing) {
                        failure = new IOException("accepting on " + inbound.describe() + ": " + e.getMessage(), e);
                    }
                    return;
                }
                live.incrementAndGet();
                try {
                    pool.execute(() -> connect(accepted));
                } catch (RejectedExecutionException closed) {
                    ended(accepted);
                }
            }
        } catch (InterruptedException e) {
            // close() interrupts a wait for a permit
        } finally {
            if (!closing) {
                Thread.ofPlatform().daemon().start(this::close);
            }
        }
    }

    /** On a pool thread: dial the other side and relay, this thread copying one direction. */
    private void connect(End accepted) {
        End dialed;
        try {
            dialed = outbound.dial();
        } catch (IOException | RuntimeException e) {
            log.println("vsock proxy: " + accepted.peer() + " -> " + outbound.describe() + ": " + VsockCommand.describe(e));
            ended(accepted);
            return;
        }
        Relay relay = new Relay(accepted, dialed, closed -> {
            open.remove(closed);
            live.decrementAndGet();
            permits.release();
        });
        open.add(relay);
        if (closing) {
            relay.close();
        }
        relay.run(pool);
    }

    /** A connection that never became a relay: closed, and its permit back. */
    private void ended(End accepted) {
        accepted.close();
        live.decrementAndGet();
        permits.release();
    }

    /** Stops accepting, closes every connection, waits for the threads; idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
        }
        try {
            inbound.close();
        } catch (IOException ignored) {
            // closing the listener is best effort
        }
        acceptor.interrupt();
        open.forEach(Relay::close);
        pool.shutdown();
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(10));
            open.forEach(Relay::close); // a connection that was dialing when close began
            pool.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stopped.countDown();
        }
    }
}
