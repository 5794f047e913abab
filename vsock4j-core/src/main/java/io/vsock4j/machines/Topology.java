package io.vsock4j.machines;

import io.vsock4j.core.Machine;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;
import io.vsock4j.transport.link.GuestTransport;
import io.vsock4j.transport.link.HostTransport;
import io.vsock4j.transport.loopback.LoopbackTransport;

import java.io.IOException;

/**
 * Nested machines in one JVM, for tests and the demo: L0 is a host, L1 its guest and itself the host of
 * L2, joined by in-memory links, as a VM running a VM is on Linux 5.5+.
 *
 * <pre>
 *   L0 (CID 2)                 L1 (CID 3)                      L2 (CID 4)
 *   H2G ----- memory link ----- G2H     H2G ----- memory link ----- G2H
 *   LOCAL                       LOCAL                           LOCAL
 * </pre>
 *
 * From L1, CID 1 and 3 stay in L1 (LOCAL), CID 2 is L0 (G2H), CID 4 is L2 (H2G). From L2, CID 2 is L1.
 * From L0, CID 3 is L1; L2 is out of L0's sight, as a nested guest is. {@link #close()} stops L2, L1,
 * then L0. Any thread; the machines are the usual thread-safe {@link Machine}s.
 */
public final class Topology implements AutoCloseable {
    /** The CID L0 gives L1. */
    public static final int L1_CID = 3;
    /** The CID L1 gives L2. */
    public static final int L2_CID = 4;

    private final Machine l0;
    private final Machine l1;
    private final Machine l2;

    private Topology(Machine l0, Machine l1, Machine l2) {
        this.l0 = l0;
        this.l1 = l1;
        this.l2 = l2;
    }

    /** Builds and starts L0, L1 and L2. */
    public static Topology nested() throws IOException {
        HostTransport l0Host = new HostTransport("l0", false);
        Machine l0 = Machine.builder().name("L0").transport(l0Host).transport(new LoopbackTransport()).build();
        Machine l1 = null;
        try {
            GuestTransport l1Guest = l0Host.attachInMemory(L1_CID);
            HostTransport l1Host = new HostTransport("l1", false);
            l1 = Machine.builder().name("L1").transport(l1Guest).transport(l1Host)
                    .transport(new LoopbackTransport()).build();
            GuestTransport l2Guest = l1Host.attachInMemory(L2_CID);
            Machine l2 = Machine.builder().name("L2").transport(l2Guest).transport(new LoopbackTransport()).build();
            return new Topology(l0, l1, l2);
        } catch (IOException | RuntimeException e) {
            if (l1 != null) {
                l1.close();
            }
            l0.close();
            throw e;
        }
    }

    public Machine l0() {
        return l0;
    }

    public Machine l1() {
        return l1;
    }

    public Machine l2() {
        return l2;
    }

    /** Which machine a transport belongs to and its role, e.g. "L1 G2H": for the demo's packet log. */
    public String describe(Transport t) {
        for (Machine m : new Machine[] {l0, l1, l2}) {
            for (TransportRole role : TransportRole.values()) {
                if (m.transport(role) == t) {
                    return m.name() + " " + role;
                }
            }
        }
        return String.valueOf(t);
    }

    @Override
    public void close() {
        l2.close();
        l1.close();
        l0.close();
    }
}
