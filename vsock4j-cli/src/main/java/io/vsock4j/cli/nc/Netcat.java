package io.vsock4j.cli.nc;

import io.vsock4j.VsockAddress;
import io.vsock4j.cli.Stdio;
import io.vsock4j.spi.SocketProvider;

import java.io.IOException;
import java.nio.channels.ClosedByInterruptException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The work of {@code vsock nc}, apart from option parsing so tests can run several in one JVM. Like
 * ncat: stdin goes to the peer and the peer's bytes to stdout; stdin's EOF half-closes; a connection
 * ends when the peer's side has reached EOF and the peer takes nothing more from us (stdin ended, or
 * the peer closed). {@code -k} accepts the next client after one ends; {@code --exec} hands each
 * connection to a process instead, concurrently under {@code -k}.
 *
 * <p>Threads: {@link #run} on the caller's thread; stdin is read by one feeder thread for the whole run.
 * Interrupting the caller ends a listener (accept then throws ClosedByInterruptException).
 */
public final class Netcat {
    private final SocketProvider provider;
    private final Stdio stdio;
    private final NcOptions options;

    public Netcat(SocketProvider provider, Stdio stdio, NcOptions options) {
        this.provider = provider;
        this.stdio = stdio;
        this.options = options;
    }

    /** Connects or listens, per the options. Failures to connect, bind or accept are thrown. */
    public void run() throws IOException, InterruptedException {
        if (options.listen()) {
            listen();
        } else {
            connect();
        }
    }

    private void connect() throws IOException, InterruptedException {
        VsockAddress remote = VsockAddress.of(options.cid(), options.port());
        try (NcChannel channel = NcEndpoints.connect(provider, options.type(), remote, options.timeoutMillis())) {
            if (options.exec() != null) {
                new ExecSession(channel, options.exec()).run();
                return;
            }
            StdinFeeder feeder = startFeeder(channel);
            try {
                converse(channel, feeder);
            } finally {
                feeder.stop();
            }
        }
    }

    private void listen() throws IOException, InterruptedException {
        VsockAddress local = VsockAddress.of(options.cid(), options.port());
        try (NcEndpoints.Listener listener = NcEndpoints.listen(provider, options.type(), local)) {
            if (options.exec() != null) {
                serveExec(listener);
                return;
            }
            StdinFeeder feeder = null;
            try {
                do {
                    NcChannel channel = accept(listener);
                    if (channel == null) {
                        return;
                    }
                    try (channel) {
                        if (feeder == null) {
                            feeder = startFeeder(channel);
                        }
                        converse(channel, feeder);
                    }
                } while (options.keepOpen());
            } finally {
                if (feeder != null) {
                    feeder.stop();
                }
            }
        }
    }

    /** Accepts; null when the run was interrupted (the way a {@code -k} listener is ended in-process). */
    private NcChannel accept(NcEndpoints.Listener listener) throws IOException {
        try {
            return listener.accept();
        } catch (ClosedByInterruptException stopped) {
            return null;
        }
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
        StdinFeeder feeder = new StdinFeeder(first.source(stdio.in()));
        feeder.attach(first);
        Thread.ofPlatform().name("vsock-nc-stdin").daemon(true).start(feeder);
        return feeder;
    }

    /** One connection: the peer's bytes to stdout until EOF, then wait until stdin has no more for it. */
    private void converse(NcChannel channel, StdinFeeder feeder) throws IOException, InterruptedException {
        feeder.attach(channel);
        try {
            Units.Sink sink = channel.sink(stdio.out());
            int n;
            while ((n = channel.receive()) >= 0) {
                sink.write(channel.receiveBuffer(), 0, n);
            }
            feeder.awaitFinished(channel);
        } finally {
            channel.close(); // wakes a send blocked on credit, so the detach below cannot hang
            feeder.detach(channel);
        }
    }
}
