package io.vsock4j.cli.perf;

import io.vsock4j.SocketProvider;

import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Timed transfers over fresh {@link StreamPair}s, both ends in this JVM: the receiver on one platform thread
 * kept for all transfers, the sender on the caller's, as in the JMH benchmarks (two long-lived platform
 * threads: a virtual thread would add its scheduler's hand-offs to every blocking read, and a new thread
 * per transfer starts where the scheduler puts it, often beside the sender). The result is the receiver's,
 * first byte to EOF. Each transfer closes what it opened; {@link #close} ends the receiver thread. Used by
 * the thread that made it.
 */
final class PairTransfer implements Rounds.Runner, AutoCloseable {
    private final SocketProvider provider;
    private final int port;
    private final long vskBytes;
    private final long bytes;
    private final int bufSize;
    private final ExecutorService receiver =
            Executors.newSingleThreadExecutor(Thread.ofPlatform().name("perf-receiver").factory());

    PairTransfer(SocketProvider provider, int port, long vskBytes, long bytes, int bufSize) {
        this.provider = provider;
        this.port = port;
        this.vskBytes = vskBytes;
        this.bytes = bytes;
        this.bufSize = bufSize;
    }

    @Override
    public Transfer.Result run(String transport) throws IOException, InterruptedException {
        try (StreamPair pair = StreamPair.open(transport, provider, port, vskBytes)) {
            Future<Transfer.Result> received = receiver.submit(() -> Transfer.receive(pair.serverIn, bufSize, 0));
            try {
                Transfer.send(pair.clientOut, bytes, bufSize, 0);
                pair.shutdownClientOutput();
            } catch (IOException | RuntimeException e) {
                pair.close(); // wakes the receiver, which would otherwise wait for an EOF that never comes
                throw e;
            }
            try {
                return received.get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            }
        }
    }

    @Override
    public void close() {
        receiver.shutdownNow();
    }
}
