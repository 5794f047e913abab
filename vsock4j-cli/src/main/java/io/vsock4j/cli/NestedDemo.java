package io.vsock4j.cli;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.core.Routing;
import io.vsock4j.machines.Topology;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.spi.Transport;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The second half of {@code vsock demo}: the picture Linux 5.5+ made possible. L0 is a host, L1 its guest
 * and itself the host of L2; L1 holds G2H, H2G and LOCAL at once. Every machine runs a small server on
 * port 7000 that answers with its own name; connects from each machine show which transport carried
 * the REQUEST, why the routing rules chose it, and who answered.
 *
 * <p>Threads: the caller's thread connects; one virtual thread per machine serves port 7000; the taps
 * run on the links' delivery threads and only record.
 */
final class NestedDemo {
    private static final int PORT = 7000;
    private final PrintStream out;
    /** Which transport carried the last REQUEST out of each machine. */
    private final Map<Machine, Transport> requestCarrier = new ConcurrentHashMap<>();

    /** For --capture; may be null. */
    private final VsockCommand root;

    NestedDemo(PrintStream out, VsockCommand root) {
        this.out = out;
        this.root = root;
    }

    void run() throws Exception {
        out.println();
        out.println("9. Nested machines: L0 (host), L1 (its guest, CID " + Topology.L1_CID + ", and host of L2), L2 (CID "
                + Topology.L2_CID + ").");
        out.println("   L1 holds three transports at once and picks one per connection, as Linux does since 5.5.");
        try (Topology topology = Topology.nested();
             ExecutorService servers = Executors.newVirtualThreadPerTaskExecutor()) {
            Machine[] machines = {topology.l0(), topology.l1(), topology.l2()};
            String[] names = {"L0", "L1", "L2"};
            List<VsockServerSocket> listeners = new ArrayList<>();
            for (int i = 0; i < machines.length; i++) {
                Machine m = machines[i];
                m.addTap((outbound, transport, p) -> recordRequest(m, outbound, transport, p));
                if (root != null) {
                    root.capture(m);
                }
                VsockServerSocket server = VsockServerSocket.bind(m, VsockAddress.of(VsockAddress.CID_ANY, PORT));
                listeners.add(server);
                String name = names[i];
                servers.submit(() -> serve(server, name));
            }
            for (int i = 0; i < machines.length; i++) {
                out.println("   " + names[i] + ": local CID " + VsockAddress.cidToString(machines[i].localCid())
                        + ", transports " + transports(topology, machines[i]));
            }
            out.println();
            ask(topology, machines[1], "L1", VsockAddress.CID_LOCAL);
            ask(topology, machines[1], "L1", Topology.L1_CID);
            ask(topology, machines[1], "L1", VsockAddress.CID_HOST);
            ask(topology, machines[1], "L1", Topology.L2_CID);
            ask(topology, machines[1], "L1", 9);
            ask(topology, machines[2], "L2", VsockAddress.CID_HOST);
            ask(topology, machines[2], "L2", VsockAddress.CID_LOCAL);
            ask(topology, machines[0], "L0", Topology.L1_CID);
            ask(topology, machines[0], "L0", Topology.L2_CID);
            for (VsockServerSocket s : listeners) {
                s.close();
            }
        }
    }

    private void recordRequest(Machine m, boolean outbound, Transport transport, Packet p) {
        if (outbound && p.op == VirtioVsock.OP_REQUEST) {
            requestCarrier.put(m, transport);
        }
    }

    private static String transports(Topology topology, Machine m) {
        StringBuilder s = new StringBuilder();
        for (io.vsock4j.spi.TransportRole role : io.vsock4j.spi.TransportRole.values()) {
            Transport t = m.transport(role);
            if (t != null) {
                s.append(s.isEmpty() ? "" : ", ").append(role);
            }
        }
        return s.toString();
    }

    /** Connects from {@code from} to {@code cid}:7000 and reports the route, the reason and the answer. */
    private void ask(Topology topology, Machine from, String fromName, int cid) {
        requestCarrier.remove(from);
        String reason = Routing.explain(from.slots(), cid, 0);
        try (VsockSocket s = VsockSocket.connect(from, VsockAddress.of(cid, PORT))) {
            byte[] answer = s.getInputStream().readAllBytes();
            Transport carrier = requestCarrier.get(from);
            out.printf("   %s -> CID %-2s via %-7s answered by %s%n      (%s)%n", fromName, VsockAddress.cidToString(cid),
                    carrier == null ? "?" : topology.describe(carrier), new String(answer, StandardCharsets.UTF_8), reason);
        } catch (IOException e) {
            out.printf("   %s -> CID %-2s fails: %s%n      (%s)%n", fromName, VsockAddress.cidToString(cid), e.getMessage(), reason);
        }
    }

    private static Void serve(VsockServerSocket server, String name) {
        try {
            while (true) {
                try (VsockSocket s = server.accept()) {
                    s.getOutputStream().write(name.getBytes(StandardCharsets.UTF_8));
                }
            }
        } catch (IOException closed) {
            return null;
        }
    }
}
