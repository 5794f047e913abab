package io.vsock4j.transport.kernel;

import org.junit.jupiter.api.extension.ExtendWith;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.SocketProvider;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 2,000 virtual threads each blocked in a read on its own kernel vsock connection, on a scheduler of two
 * carriers (the guest JVM runs with -Djdk.virtualThreadScheduler.parallelism=2 and maxPoolSize=2): if a
 * blocked read held its carrier, nothing else could run. While they wait, a new connection is accepted
 * and served; then each gets its byte. Inside the guest only.
 */
@ExtendWith(GuestOnly.class)
public class VirtualThreadsGuestCases {
    private static final int READERS = 2000;

    private final SocketProvider provider = KernelVsock.provider();

    @Test
    void twoThousandBlockedReadersDoNotStopNewConnections() throws Exception {
        assertThat(System.getProperty("jdk.virtualThreadScheduler.parallelism"))
                .as("the test needs a two-carrier scheduler to mean anything").isEqualTo("2");
        assertThat(System.getProperty("jdk.virtualThreadScheduler.maxPoolSize")).isEqualTo("2");
        int port = 40_000;
        List<VsockSocket> clients = new ArrayList<>();
        ConcurrentLinkedQueue<VsockSocket> accepted = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Thread> readers = new ConcurrentLinkedQueue<>();
        AtomicInteger gotTheirByte = new AtomicInteger();
        try (ExecutorService vts = Executors.newVirtualThreadPerTaskExecutor();
             VsockServerSocket server = VsockServerSocket.open(provider)) {
            server.bind(VsockAddress.of(VsockAddress.CID_ANY, port), 4096);
            Future<Void> acceptLoop = vts.submit(() -> {
                for (int i = 0; i < READERS; i++) {
                    VsockSocket a = server.accept();
                    accepted.add(a);
                    vts.submit(() -> {
                        readers.add(Thread.currentThread());
                        if (a.getInputStream().read() == 0x5A) {
                            gotTheirByte.incrementAndGet();
                        }
                        return null;
                    });
                }
                return null;
            });
            for (int i = 0; i < READERS; i++) {
                clients.add(VsockSocket.connect(provider, VsockAddress.local(port)));
            }
            acceptLoop.get(120, TimeUnit.SECONDS);
            awaitAllParked(readers);
            int platformThreads = Thread.getAllStackTraces().size();

            // Everyone is blocked in read. A new connection must still be accepted and served.
            long start = System.nanoTime();
            try (VsockServerSocket echo = VsockServerSocket.bind(provider, VsockAddress.of(VsockAddress.CID_ANY, port + 1))) {
                Future<Integer> echoer = vts.submit(() -> {
                    try (VsockSocket s = echo.accept()) {
                        int b = s.getInputStream().read();
                        s.getOutputStream().write(b + 1);
                        return b;
                    }
                });
                try (VsockSocket c = VsockSocket.connect(provider, VsockAddress.local(port + 1))) {
                    c.setSoTimeout(20_000);
                    c.getOutputStream().write(41);
                    assertThat(c.getInputStream().read()).isEqualTo(42);
                }
                assertThat(echoer.get(20, TimeUnit.SECONDS)).isEqualTo(41);
            }
            System.out.printf("VirtualThreadsGuestCases: %d readers parked; %d platform threads; new connection served in %d ms%n",
                    READERS, platformThreads, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            assertThat(platformThreads).as("platform threads (no thread per blocked read)").isLessThan(60);

            for (VsockSocket c : clients) {
                c.getOutputStream().write(0x5A);
            }
            for (int i = 0; i < 3000 && gotTheirByte.get() < READERS; i++) {
                Thread.sleep(20);
            }
            assertThat(gotTheirByte.get()).isEqualTo(READERS);
        } finally {
            for (VsockSocket c : clients) {
                c.close();
            }
            for (VsockSocket a : accepted) {
                a.close();
            }
        }
    }

    private static void awaitAllParked(ConcurrentLinkedQueue<Thread> readers) throws InterruptedException {
        for (int i = 0; i < 3000; i++) {
            if (readers.size() == READERS && readers.stream().allMatch(t -> t.getState() == Thread.State.WAITING)) {
                return;
            }
            Thread.sleep(20);
        }
        long parked = readers.stream().filter(t -> t.getState() == Thread.State.WAITING).count();
        throw new AssertionError("only " + readers.size() + " readers started, " + parked + " parked");
    }
}
