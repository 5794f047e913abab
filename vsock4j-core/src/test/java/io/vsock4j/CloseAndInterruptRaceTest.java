package io.vsock4j;

import io.vsock4j.core.Machine;
import io.vsock4j.testing.Blocked;
import io.vsock4j.testing.Trials;
import io.vsock4j.transport.link.HostTransport;
import io.vsock4j.transport.link.UnixLinkServer;
import io.vsock4j.transport.link.UnixLinks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.SocketException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * close() and Thread.interrupt() racing with sends and receives (issue #17 item 4), on the Java
 * loopback and over a Unix link between two machines in this JVM. Each round opens a few connections and starts many callers on them, platform and virtual
 * threads, each looping in read or write on one end: where nobody reads the other way, writers block
 * on credit; where nobody writes, readers block; elsewhere data flows. Once every caller is in its
 * loop, waker threads close random ends and interrupt random callers at random moments, and
 * then the test thread closes every end. Every caller must return, each only in a way the contract
 * (VsockSocket's class comment) allows:
 * <ul>
 *   <li>"Socket closed" ({@link SocketException}), its socket closed by a waker, or by another
 *       caller's interrupt, which closes the socket;</li>
 *   <li>{@link ClosedByInterruptException}, only a caller that was interrupted;</li>
 *   <li>a writer "EPIPE", or a reader's EOF, once the other end is closed.</li>
 * </ul>
 * Anything else, or a caller still blocked once every end is closed, fails with the seed
 * ({@code -Dvsock4j.test.seed=N} replays it) and the stuck thread's stack. The fixture then checks
 * that the machine holds no socket and no connection; that takes up to the close timeout (8 s), since
 * an end closed with bytes still queued waits for it before its RST, as in the kernel.
 */
@Timeout(120)
class CloseAndInterruptRaceTest extends LoopbackFixture {
    private static final int ROUNDS = 40;
    private static final int CONNECTIONS = 3;
    private static final int CALLERS_PER_CONNECTION = 6;
    private static final int PORT = 7301;
    /** When a caller that every close should have woken counts as hung (see {@link Blocked.Call#end}). */
    private static final Duration HANG = Duration.ofSeconds(20);

    /** One looping caller: which socket it uses, which way, and how it ended. */
    private record Caller(VsockSocket socket, boolean writes, Thread thread) {
    }

    /** Opens one connection for a round: {client, accepted}. */
    @FunctionalInterface
    private interface Opener {
        VsockSocket[] open() throws IOException;
    }

    @Test
    void onTheLoopbackEveryCallReturnsOnlyAsDocumented() throws Exception {
        VsockServerSocket server = listen(PORT);
        race(() -> new VsockSocket[] {connect(PORT), track(server.accept())});
    }

    /**
     * The same over a Unix link between two machines in this JVM, where packets cross the link's reader
     * and writer threads instead of being delivered on the sending thread.
     */
    @Test
    void overAUnixLinkEveryCallReturnsOnlyAsDocumented(@TempDir Path dir) throws Exception {
        HostTransport h2g = new HostTransport("race-host", false);
        // A short close timeout: ends closed with bytes unread leave at its end (see the class comment).
        Duration closeTimeout = Duration.ofMillis(500);
        try (Machine host = Machine.builder().name("race-host").transport(h2g).closeTimeout(closeTimeout).build();
             UnixLinkServer links = UnixLinkServer.serve(dir.resolve("link.sock"), h2g, 3);
             Machine guest = Machine.builder().name("race-guest").transport(UnixLinks.connectGuest(links.path()))
                     .closeTimeout(closeTimeout).build()) {
            while (!h2g.reaches(guest.localCid())) {
                Thread.sleep(1); // the host attaches the guest once it has read the hello's answer
            }
            VsockServerSocket server = track(VsockServerSocket.bind(guest, VsockAddress.of(VsockAddress.CID_ANY, PORT)));
            race(() -> new VsockSocket[] {track(VsockSocket.connect(host, VsockAddress.of(guest.localCid(), PORT))),
                track(server.accept())});
            server.close();
            for (Machine m : List.of(host, guest)) {
                // As the fixture does for its machine: closed connections leave once their close is over.
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (m.connectionCount() > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertThat(m.connectionCount()).as("connections left on %s", m.name()).isZero();
            }
        }
    }

    /** {@link #ROUNDS} rounds on connections from {@code opener}, then checks that the races happened. */
    private void race(Opener opener) throws Exception {
        long seed = Trials.seed();
        Random random = new Random(seed);
        Map<String, Integer> outcomes = new TreeMap<>();
        for (int round = 0; round < ROUNDS; round++) {
            String where = "seed " + seed + " (-D" + Trials.SEED_PROPERTY + "), round " + round;
            runRound(opener, random, where, outcomes);
        }
        // The races did happen: interrupts came while callers were inside their calls, and closes too.
        assertThat(outcomes).as("how callers ended, seed %d", seed)
                .containsKeys(ClosedByInterruptException.class.getSimpleName(), SocketException.class.getSimpleName());
    }

    private void runRound(Opener opener, Random random, String where, Map<String, Integer> outcomes) throws Exception {
        List<VsockSocket> ends = new ArrayList<>();
        for (int c = 0; c < CONNECTIONS; c++) {
            VsockSocket[] pair = opener.open(); // tracked: a failed round leaves nothing open for the next test
            ends.add(pair[0]);
            ends.add(pair[1]);
        }
        CountDownLatch started = new CountDownLatch(CONNECTIONS * CALLERS_PER_CONNECTION);
        ConcurrentHashMap<Thread, Optional<Throwable>> endings = new ConcurrentHashMap<>();
        Set<Thread> interrupted = ConcurrentHashMap.newKeySet();
        List<Caller> callers = new ArrayList<>();
        for (int i = 0; i < CONNECTIONS * CALLERS_PER_CONNECTION; i++) {
            VsockSocket socket = ends.get(2 * (i % CONNECTIONS) + random.nextInt(2));
            boolean writes = random.nextBoolean();
            Runnable body = () -> endings.put(Thread.currentThread(), Optional.ofNullable(loop(socket, writes, started)));
            Thread t = (random.nextBoolean() ? Thread.ofPlatform().daemon(true) : Thread.ofVirtual())
                    .name((writes ? "writer-" : "reader-") + i).start(body);
            callers.add(new Caller(socket, writes, t));
        }
        started.await();

        // Wakers close ends and interrupt callers while the callers run, block, and wake each other.
        List<Thread> wakers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            boolean close = random.nextBoolean();
            VsockSocket end = ends.get(random.nextInt(ends.size()));
            Caller victim = callers.get(random.nextInt(callers.size()));
            int spins = random.nextInt(20_000);
            wakers.add(Thread.ofPlatform().daemon(true).name("waker-" + w).start(() -> {
                for (int s = 0; s < spins; s++) {
                    Thread.onSpinWait();
                }
                if (close) {
                    closeQuietly(end);
                } else {
                    interrupted.add(victim.thread());
                    victim.thread().interrupt();
                }
            }));
        }
        for (Thread w : wakers) {
            w.join();
        }
        // Whatever the wakers left blocked, closing every end wakes.
        for (VsockSocket end : ends) {
            closeQuietly(end);
        }
        for (Caller c : callers) {
            c.thread().join(HANG);
            if (c.thread().isAlive()) {
                throw new AssertionError(where + ": a caller is still blocked after every end was closed: "
                        + Blocked.describe(c.thread()));
            }
            Throwable ending = endings.get(c.thread()).orElse(null);
            outcomes.merge(ending == null ? "EOF" : ending.getClass().getSimpleName(), 1, Integer::sum);
            assertThat(allowed(ending, c, interrupted.contains(c.thread())))
                    .as("%s: %s ended with %s", where, c.thread().getName(), ending).isTrue();
        }
    }

    /** Reads or writes until a call fails or reads EOF; returns what ended it (null for EOF). */
    private static Throwable loop(VsockSocket socket, boolean writes, CountDownLatch started) {
        byte[] buf = new byte[64 * 1024];
        boolean first = true;
        try {
            while (true) {
                if (first) {
                    started.countDown();
                    first = false;
                }
                if (writes) {
                    socket.getOutputStream().write(buf);
                } else if (socket.getInputStream().read(buf) < 0) {
                    return null;
                }
            }
        } catch (Throwable t) {
            if (first) {
                started.countDown();
            }
            return t;
        }
    }

    private static boolean allowed(Throwable ending, Caller c, boolean wasInterrupted) {
        if (ending == null) {
            return !c.writes(); // a reader's EOF: the other end was closed
        }
        if (ending instanceof ClosedByInterruptException) {
            return wasInterrupted;
        }
        if (ending instanceof SocketException e && e.getClass() == SocketException.class) {
            String m = String.valueOf(e.getMessage());
            // Nobody here calls shutdownOutput: an EPIPE must be the peer's close, never "after shutdownOutput".
            return m.equals("Socket closed") || c.writes() && m.startsWith("EPIPE") && m.contains("shut down receiving");
        }
        return false;
    }

    private static void closeQuietly(VsockSocket s) {
        try {
            s.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
