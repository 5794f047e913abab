package io.vsock4j.reliability;

import io.vsock4j.SocketProvider;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The two halves of the load, each in whichever process runs it: {@link #connectAll} dials every
 * connection at once and runs their connecting ends, {@link #acceptAll} accepts them on one listener and
 * runs their accepting ends. One virtual thread per end (and one more per end for its writer, see
 * {@link LoadEnd}); the calling thread waits for all of them. Stateless.
 */
final class Load {
    /**
     * How long a connect may wait for its RESPONSE: a thousand REQUESTs at once on a busy shared machine
     * could take longer than the 2 s default (not seen yet), and a slow answer is not what this load is about.
     */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);

    private Load() {
    }

    /**
     * Connects {@code connections} sockets to {@code listener} at once, each on its own virtual thread
     * that then runs the connection's connecting end. Returns what went wrong, one line per connection
     * that failed; empty when every one completed with matching checksums.
     *
     * @param bufferBytes each socket's SO_VM_SOCKETS_BUFFER_SIZE (the credit it gives its peer)
     * @param live        the sockets open now, for the memory sampler; each is removed when its end is done
     */
    static List<String> connectAll(SocketProvider machine, VsockAddress listener, int connections, int bytes,
                                   long seed, long bufferBytes, Set<VsockSocket> live) throws InterruptedException {
        try (ExecutorService ends = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                int number = i;
                results.add(ends.submit(() -> {
                    VsockSocket s = VsockSocket.open(machine);
                    try {
                        s.setOption(VsockOptions.CONNECT_TIMEOUT, CONNECT_TIMEOUT);
                        s.setOption(VsockOptions.BUFFER_SIZE, bufferBytes);
                        s.connect(listener);
                    } catch (Exception e) {
                        s.close();
                        return "connection " + number + ": connect to " + listener + ": " + e;
                    }
                    live.add(s);
                    try {
                        return new LoadEnd(s, bytes, seed).runConnecting(number);
                    } finally {
                        live.remove(s);
                    }
                }));
            }
            return failures(results);
        }
    }

    /**
     * Accepts {@code connections} connections on {@code server} and runs each one's accepting end on a
     * virtual thread of its own; returns as {@link #connectAll}. Closing the server ends the wait for
     * connections that never come (the failure then says how many were accepted). The accepted sockets
     * have the server's buffer size, as in the kernel.
     */
    static List<String> acceptAll(VsockServerSocket server, int connections, int bytes, long seed,
                                  Set<VsockSocket> live) throws InterruptedException {
        List<String> failures = new ArrayList<>();
        try (ExecutorService ends = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                VsockSocket s;
                try {
                    s = server.accept();
                } catch (Exception e) {
                    failures.add("accepted " + i + " of " + connections + " connections, then: " + e);
                    break;
                }
                live.add(s);
                results.add(ends.submit(() -> {
                    try {
                        return new LoadEnd(s, bytes, seed).runAccepting();
                    } finally {
                        live.remove(s);
                    }
                }));
            }
            failures.addAll(failures(results));
        }
        return failures;
    }

    private static List<String> failures(List<Future<String>> results) throws InterruptedException {
        List<String> failures = new ArrayList<>();
        for (Future<String> r : results) {
            try {
                failures.add(r.get());
            } catch (ExecutionException e) {
                failures.add(String.valueOf(e.getCause()));
            }
        }
        failures.removeIf(Objects::isNull);
        return failures;
    }
}
