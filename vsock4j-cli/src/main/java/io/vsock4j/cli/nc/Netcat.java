package io.vsock4j.cli.nc;

import io.vsock4j.VsockAddress;
import io.vsock4j.cli.Stdio;
import io.vsock4j.cli.VsockCommand;
import io.vsock4j.SocketProvider;

import java.io.IOException;
import java.nio.channels.ClosedByInterruptException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The work of {@code vsock nc}, apart from option parsing so tests can run several in one JVM. stdin
 * goes to the peer and the peer's bytes to stdout. When a connection ends follows ncat 7.93 (read from
 * its ncat_connect.c and ncat_listen.c, and checked against the binary):
 * <ul>
 *   <li>stdin's EOF half-closes (shutdown of the write side; not with {@code --no-shutdown}) and
 *       reading goes on. A listener half-closes only the client connected when stdin ended.</li>
 *   <li>A listener's connection ends at the peer's EOF, whatever stdin still holds; without {@code -k}
 *       that ends the run (exit 0), with {@code -k} the next client is accepted. A failed read ends
 *       it too (exit 1 without -k); failed sends are ignored.</li>
 *   <li>A client closes stdout at the peer's EOF and exits once stdin has reached EOF as well (exit 0);
 *       with its stdin still open it waits. A failed send or read ends it with exit 1.</li>
 *   <li>{@code --send-only} never reads the peer and ends at stdin's EOF (a listener too, even with
 *       -k); {@code --recv-only} sends nothing (a listener still consumes stdin) and a client ends at
 *       the peer's EOF.</li>
 *   <li>{@code -i}: nothing read from stdin or the peer for that long ends the run: a client with exit
 *       1 (also after both EOFs, where ncat lingers until the timer fires), a listener with exit 2,
 *       timing only while a client is connected.</li>
 * </ul>
 * A listener serves one client at a time (ncat's {@code -k} without --exec serves several at once);
 * {@code --exec} hands each connection to a process, concurrently under {@code -k}, and unlike ncat
 * relays all the process's output before closing.
 *
 * <p>Threads: {@link #run} on the caller's thread; stdin is read by one feeder thread for the whole run;
 * {@code -i} adds a timer thread. Interrupting the caller ends a listener (accept then throws
 * ClosedByInterruptException).
 */
public final class Netcat {
    /** ncat's exit status when a listener's idle timeout expires (its bye()); a client's is 1. */
    static final int EXIT_LISTENER_IDLE = 2;
    /** {@link #serve}'s result when a -k listener goes on to the next client. */
    private static final int NEXT_CLIENT = -1;

    private final SocketProvider provider;
    private final Stdio stdio;
    private final NcOptions options;
    private IdleTimer idle;

    public Netcat(SocketProvider provider, Stdio stdio, NcOptions options) {
        this.provider = provider;
        this.stdio = stdio;
        this.options = options;
    }

    /** Connects or listens, per the options; returns the exit code. Failures to connect, bind or accept are thrown. */
    public int run() throws IOException, InterruptedException {
        try (IdleTimer timer = new IdleTimer(options.idleTimeoutMillis())) {
            idle = timer;
            return options.listen() ? listen() : connect();
        }
    }

    private int connect() throws IOException, InterruptedException {
        VsockAddress remote = VsockAddress.of(options.cid(), options.port());
        try (NcChannel channel = NcEndpoints.connect(provider, options.type(), remote, options.timeoutMillis())) {
            say("connected to " + channel.remote());
            if (options.exec() != null) {
                new ExecSession(channel, options.exec()).run();
                return VsockCommand.EXIT_OK;
            }
            StdinFeeder feeder = options.recvOnly() ? null : startFeeder(channel);
            idle.arm(() -> endAtIdle(channel, feeder));
            try {
                return converseAsClient(channel, feeder);
            } finally {
                if (feeder != null) {
                    feeder.stop();
                }
            }
        }
    }

    private int converseAsClient(NcChannel channel, StdinFeeder feeder) throws IOException, InterruptedException {
        try {
            if (!options.sendOnly()) {
                copyToStdout(channel);
                closeStdout();
                if (options.recvOnly()) {
                    return idle.fired() ? idleExpired(VsockCommand.EXIT_FAILURE) : VsockCommand.EXIT_OK;
                }
            }
            IOException failed = feeder.awaitFinished(channel, true);
            if (failed != null && !idle.fired()) {
                throw failed;
            }
            if (!options.sendOnly()) {
                idle.awaitFired(); // returns at once without -i
            }
        } catch (IOException e) {
            if (idle.fired()) {
                return idleExpired(VsockCommand.EXIT_FAILURE);
            }
            IOException sendFailed = feeder == null ? null : feeder.failure(channel);
            throw sendFailed != null ? sendFailed : e;
        }
        return idle.fired() ? idleExpired(VsockCommand.EXIT_FAILURE) : VsockCommand.EXIT_OK;
    }

    private int listen() throws IOException, InterruptedException {
        VsockAddress local = VsockAddress.of(options.cid(), options.port());
        try (NcEndpoints.Listener listener = NcEndpoints.listen(provider, options.type(), local)) {
            say("listening on " + listener.local());
            if (options.exec() != null) {
                serveExec(listener);
                return VsockCommand.EXIT_OK;
            }
            StdinFeeder feeder = null;
            try {
                int code = NEXT_CLIENT;
                while (code == NEXT_CLIENT) {
                    NcChannel channel = accept(listener);
                    if (channel == null) {
                        return VsockCommand.EXIT_OK;
                    }
                    try (channel) {
                        if (feeder == null) {
                            feeder = startFeeder(channel);
                        }
                        code = serve(channel, feeder);
                    }
                }
                return code;
            } finally {
                if (feeder != null) {
                    feeder.stop();
                }
            }
        }
    }

    /** A listener's connection; returns the exit code, or {@link #NEXT_CLIENT} under -k. */
    private int serve(NcChannel channel, StdinFeeder feeder) throws IOException, InterruptedException {
        feeder.attach(channel);
        idle.arm(() -> endAtIdle(channel, feeder));
        try {
            if (options.sendOnly()) {
                feeder.awaitFinished(channel, false);
            } else {
                copyToStdout(channel);
            }
        } catch (IOException e) {
            if (!options.keepOpen() && !idle.fired()) {
                throw e;
            }
        } finally {
            idle.disarm();
            channel.close(); // wakes a send blocked on credit, so the detach below cannot hang
            feeder.detach(channel);
        }
        if (idle.fired()) {
            return idleExpired(EXIT_LISTENER_IDLE);
        }
        return options.keepOpen() && !options.sendOnly() ? NEXT_CLIENT : VsockCommand.EXIT_OK;
    }

    /**
     * Accepts; null when the run was interrupted (the way a {@code -k} listener is ended in-process).
     * Without -k the listening socket closes after its one client, as ncat's does.
     */
    private NcChannel accept(NcEndpoints.Listener listener) throws IOException {
        NcChannel channel;
        try {
            channel = listener.accept();
        } catch (ClosedByInterruptException stopped) {
            return null;
        }
        if (!options.keepOpen()) {
            listener.close();
        }
        say("connection from " + channel.remote());
        return channel;
    }

    private void serveExec(NcEndpoints.Listener listener) throws IOException, InterruptedException {
        if (!options.keepOpen()) {
            NcChannel channel = accept(listener);
            if (channel != null) {
                new ExecSession(channel, options.exec()).run();
            }
            return;
        }
        Set<ExecSession> live = ConcurrentHashMap.newKeySet();
        try (ExecutorService sessions = Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                NcChannel channel;
                while ((channel = accept(listener)) != null) {
                    ExecSession session = new ExecSession(channel, options.exec());
                    live.add(session);
                    sessions.submit(() -> {
                        try {
                            return session.run();
                        } finally {
                            live.remove(session);
                        }
                    });
                }
            } finally {
                live.forEach(ExecSession::stop); // the executor's close then waits for their threads
            }
        }
    }

    /** The first channel is attached before the feeder starts, so no stdin unit waits for nothing. */
    private StdinFeeder startFeeder(NcChannel first) {
        StdinFeeder.Rules rules = new StdinFeeder.Rules(options.listen() && options.recvOnly(),
                !options.noShutdown(), !options.listen(), idle::touch);
        StdinFeeder feeder = new StdinFeeder(first.source(stdio.in()), rules);
        feeder.attach(first);
        Thread.ofPlatform().name("vsock-nc-stdin").daemon(true).start(feeder);
        return feeder;
    }

    /** The peer's bytes to stdout until its EOF. */
    private void copyToStdout(NcChannel channel) throws IOException {
        Units.Sink sink = channel.sink(stdio.out());
        int n;
        while ((n = channel.receive()) >= 0) {
            idle.touch();
            sink.write(channel.receiveBuffer(), 0, n);
        }
    }

    /** A client closes stdout at the peer's EOF, as ncat does, so a reader of its output ends then. */
    private void closeStdout() {
        try {
            stdio.out().close();
        } catch (IOException alreadyClosed) {
            // Nobody reads our output any more; nothing is lost by not closing it.
        }
    }

    /** The timer's action: wakes the session wherever it waits. */
    private static void endAtIdle(NcChannel channel, StdinFeeder feeder) {
        if (feeder != null) {
            feeder.stop();
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing is all we wanted.
        }
    }

    private int idleExpired(int code) {
        stdio.err().println("vsock nc: idle timeout expired (" + options.idleTimeoutMillis() + " ms)");
        return code;
    }

    private void say(String line) {
        if (options.verbose()) {
            stdio.err().println("vsock nc: " + line);
        }
    }
}
