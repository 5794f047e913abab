package io.vsock4j.reliability;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.spi.TransportRole;
import io.vsock4j.transport.link.LinkTransport;
import io.vsock4j.transport.shared.SharedMachine;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The other process of {@link ConcurrentLoadTest}'s shared-machine run, started with the test's java
 * and class path: {@code DIR PORT CONNECTIONS BYTES SEED BUFFER} joins the shared machine whose
 * rendezvous directory is DIR, runs the connecting ends of the load against 1:PORT
 * ({@link Load#connectAll}), and waits until its machine has forgotten every connection. Then it prints
 * one {@code FAIL ...} line per failed connection (newlines folded), one more if its link to the daemon
 * went down, the memory peaks of its ends ({@code MEMORY} and the fields of {@link MemorySampler.Peaks}),
 * and {@code DONE <connections left> <sockets left bound>}, and exits; or it exits at once when its stdin
 * closes (so it never outlives the test). Its main thread waits; the ends run on virtual threads.
 */
public final class LoadPeerMain {
    /** How long this process's connections may take to leave its machine once their ends are done. */
    private static final long LEAK_WAIT_MILLIS = 10_000;

    private LoadPeerMain() {
    }

    /** Starts this in a new JVM with this JVM's java and class path; its output is read from the process. */
    static Process start(Path dir, int port, int connections, int bytes, long seed, long bufferBytes)
            throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), LoadPeerMain.class.getName(),
                dir.toString(), Integer.toString(port), Integer.toString(connections), Integer.toString(bytes),
                Long.toString(seed), Long.toString(bufferBytes))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[1]);
        int connections = Integer.parseInt(args[2]);
        int bytes = Integer.parseInt(args[3]);
        long seed = Long.parseLong(args[4]);
        long bufferBytes = Long.parseLong(args[5]);
        Set<VsockSocket> live = ConcurrentHashMap.newKeySet();
        Thread.ofPlatform().daemon(true).start(() -> {
            try {
                while (System.in.read() >= 0) {
                    // Wait for the test to go away.
                }
            } catch (IOException ignored) {
                // The same: the test is gone.
            }
            System.exit(1);
        });
        try (Machine machine = SharedMachine.connect(Path.of(args[0]), Duration.ofSeconds(1))) {
            List<String> failures;
            MemorySampler.Peaks peaks;
            try (MemorySampler sampler = new MemorySampler(live)) {
                failures = Load.connectAll(machine, VsockAddress.local(port), connections, bytes, seed, bufferBytes, live);
                peaks = sampler.stop();
            }
            long deadline = System.nanoTime() + LEAK_WAIT_MILLIS * 1_000_000;
            while ((machine.connectionCount() > 0 || machine.boundCount() > 0) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            for (String f : failures) {
                System.out.println("FAIL " + f.replace('\n', '|'));
            }
            if (machine.transport(TransportRole.LOCAL) instanceof LinkTransport link && link.downReason() != null) {
                System.out.println("FAIL the link to the daemon went down: " + link.downReason());
            }
            System.out.println("MEMORY " + peaks.retainedTotalBytes() + " " + peaks.retainedPerConnectionBytes() + " "
                    + peaks.openSockets() + " " + peaks.heapGrowthBytes() + " " + peaks.heapSamples());
            System.out.println("DONE " + machine.connectionCount() + " " + machine.boundCount());
            System.out.flush();
        }
        System.exit(0);
    }
}
