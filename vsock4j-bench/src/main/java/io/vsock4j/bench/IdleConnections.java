package io.vsock4j.bench;

import io.vsock4j.machines.Machines;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;

/**
 * Heap held per idle connection: opens N connections over CID 1 on one machine (both ends live in this
 * JVM), lets them go idle, and reports the heap growth per connection and per socket after full GCs.
 * Also checks that no connection holds receive-buffer memory while idle.
 *
 * <pre>./bench --idle 10000</pre>
 */
public final class IdleConnections {
    private IdleConnections() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        try (Machine machine = Machines.loopback();
             VsockServerSocket server = VsockServerSocket.open(machine)) {
            server.bind(VsockAddress.of(VsockAddress.CID_ANY, 5000), n + 1);
            // Warm the code paths so class loading and JIT data do not count as connection memory.
            List<VsockSocket> warm = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                warm.add(VsockSocket.connect(machine, VsockAddress.local(5000)));
                warm.add(server.accept());
            }
            for (VsockSocket s : warm) {
                s.close();
            }
            Thread.sleep(500);
            long before = usedAfterGc(memory);
            List<VsockSocket> sockets = new ArrayList<>(2 * n);
            for (int i = 0; i < n; i++) {
                VsockSocket c = VsockSocket.connect(machine, VsockAddress.local(5000));
                sockets.add(c);
                sockets.add(server.accept());
                c.getOutputStream().write(1); // one byte each way, read: the connection has been used
            }
            for (int i = 1; i < sockets.size(); i += 2) {
                sockets.get(i).getInputStream().read();
            }
            Thread.sleep(500);
            long after = usedAfterGc(memory);
            long retained = 0;
            for (VsockSocket s : sockets) {
                retained += Machine.connectionOf(s.handle()).retainedBytes();
            }
            long perConnection = (after - before) / n;
            System.out.printf("idle connections: %d (%d sockets, both ends in this JVM)%n", n, 2 * n);
            System.out.printf("heap growth: %.1f MiB; per connection (both ends) %d bytes; per socket %d bytes%n",
                    (after - before) / (1024.0 * 1024), perConnection, perConnection / 2);
            System.out.printf("receive-queue arrays held by idle connections: %d bytes%n", retained);
            for (VsockSocket s : sockets) {
                s.close();
            }
        }
    }

    private static long usedAfterGc(MemoryMXBean memory) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
