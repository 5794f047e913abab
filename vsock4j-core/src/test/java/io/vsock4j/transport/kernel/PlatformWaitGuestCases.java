package io.vsock4j.transport.kernel;

import io.vsock4j.SocketProvider;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Platform threads blocked on the kernel's AF_VSOCK wait in poll(2) on the socket and on a wake-up
 * eventfd (KernelFd.awaitInKernel): while nothing happens they do not run at all, and a close still wakes
 * them at once (the conformance suite's blocking cases check close and interrupt on both kinds of thread).
 * The kernel does the counting: a thread's voluntary context switches (/proc/self/task/TID/status) go up
 * by one each time it comes out of poll(2) and sleeps again, as a wait in 50 ms slices did 20 times a
 * second. Inside the guest only.
 */
@ExtendWith(GuestOnly.class)
public class PlatformWaitGuestCases {
    /** x86_64's poll(2), as /proc/TID/syscall names the call a thread sleeps in. */
    private static final String SYS_POLL = "7";

    private final SocketProvider provider = KernelVsock.provider();

    @Test
    void aBlockedAcceptAndAReadStayAsleepWhileNothingHappensAndCloseWakesThem() throws Exception {
        try (VsockServerSocket server = VsockServerSocket.bind(provider, VsockAddress.of(VsockAddress.CID_ANY, 41_000));
             VsockServerSocket idle = VsockServerSocket.bind(provider, VsockAddress.of(VsockAddress.CID_ANY, 41_001));
             VsockSocket client = VsockSocket.connect(provider, VsockAddress.local(41_000));
             VsockSocket accepted = server.accept()) {
            AtomicReference<Throwable> acceptEnd = new AtomicReference<>();
            AtomicReference<Throwable> readEnd = new AtomicReference<>();
            Thread acceptor = Thread.ofPlatform().daemon().name("idle-accept").start(() -> ending(acceptEnd, idle::accept));
            Thread reader = Thread.ofPlatform().daemon().name("idle-read").start(() -> ending(readEnd, () -> accepted.getInputStream().read()));
            int acceptTid = awaitInPoll("idle-accept");
            int readTid = awaitInPoll("idle-read");
            long acceptBefore = voluntarySwitches(acceptTid);
            long readBefore = voluntarySwitches(readTid);
            // The property is about time: over two idle seconds a sliced wait woke 40 times.
            Thread.sleep(2_000);
            assertThat(voluntarySwitches(acceptTid) - acceptBefore).as("wake-ups of an idle accept in 2 s").isLessThanOrEqualTo(1);
            assertThat(voluntarySwitches(readTid) - readBefore).as("wake-ups of an idle read in 2 s").isLessThanOrEqualTo(1);

            idle.close();
            accepted.close();
            acceptor.join(5_000);
            reader.join(5_000);
            assertThat(acceptor.isAlive()).as("accept still blocked 5 s after its listener closed").isFalse();
            assertThat(reader.isAlive()).as("read still blocked 5 s after its socket closed").isFalse();
            assertThat(acceptEnd.get()).isInstanceOf(SocketException.class).hasMessage("Socket closed");
            assertThat(readEnd.get()).isInstanceOf(SocketException.class).hasMessage("Socket closed");
        }
    }

    @FunctionalInterface
    private interface Blocking {
        Object run() throws Exception;
    }

    private static void ending(AtomicReference<Throwable> end, Blocking call) {
        try {
            call.run();
        } catch (Throwable t) {
            end.set(t);
        }
    }

    /** The kernel's id of this process's thread named {@code name}, once it sleeps in poll(2). */
    private static int awaitInPoll(String name) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
                for (Path task : tasks.toList()) {
                    try {
                        if (Files.readString(task.resolve("comm")).strip().equals(name)
                                && Files.readString(task.resolve("syscall")).split(" ")[0].equals(SYS_POLL)) {
                            return Integer.parseInt(task.getFileName().toString());
                        }
                    } catch (IOException gone) {
                        // a thread that ended while we looked
                    }
                }
            }
            assertThat(System.nanoTime() - deadline).as("thread %s never slept in poll(2)", name).isNegative();
            Thread.sleep(10);
        }
    }

    private static long voluntarySwitches(int tid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/task/" + tid + "/status"))) {
            if (line.startsWith("voluntary_ctxt_switches:")) {
                return Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        throw new AssertionError("no voluntary_ctxt_switches for thread " + tid);
    }
}
