package io.vsock4j.conformance;

import io.vsock4j.machines.Machines;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.link.GuestTransport;
import io.vsock4j.transport.link.HostTransport;
import io.vsock4j.transport.loopback.LoopbackTransport;

import java.io.IOException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Java-engine targets made fresh for one case, and their leak check. Stateless. */
final class JavaTargets {
    /** How long closing connections may take to leave their machine. */
    private static final long LEAK_WAIT_MILLIS = 5_000;
    /** The CID the link pair's host gives its guest. */
    private static final int GUEST_CID = 3;

    private JavaTargets() {
    }

    /** Makes the machines for one case. */
    @FunctionalInterface
    interface Factory {
        Open open() throws IOException;
    }

    /** A target and the machines behind it, closed after the case. */
    record Open(Target target, List<Machine> machines) implements AutoCloseable {
        /** Waits until every machine has nothing bound and no connection, then asserts it. */
        void assertNothingLeft() throws InterruptedException {
            long deadline = System.nanoTime() + LEAK_WAIT_MILLIS * 1_000_000;
            while (machines.stream().anyMatch(m -> m.boundCount() > 0 || m.connectionCount() > 0)
                    && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            for (Machine m : machines) {
                assertThat(m.boundCount()).as("sockets left bound on " + m.name()).isZero();
                assertThat(m.connectionCount()).as("connections left on " + m.name()).isZero();
            }
        }

        @Override
        public void close() {
            machines.reversed().forEach(Machine::close);
        }
    }

    /** One machine, both sides over its loopback (CID 1). */
    static Open loopback() {
        Machine machine = Machines.loopback();
        return new Open(Target.loopback(machine), List.of(machine));
    }

    /**
     * Two machines joined by a memory link: a host (CID 2, H2G) running the server halves and its guest
     * (CID 3, G2H) running the client halves, which reach the server at CID 2.
     */
    static Open linkPair() throws IOException {
        HostTransport hostSide = new HostTransport("host", false);
        Machine host = Machine.builder().name("host").transport(hostSide).transport(new LoopbackTransport()).build();
        try {
            GuestTransport guestSide = hostSide.attachInMemory(GUEST_CID);
            Machine guest = Machine.builder().name("guest").transport(guestSide).transport(new LoopbackTransport()).build();
            return new Open(new Target(host, guest, VsockAddress.CID_HOST, null, null), List.of(host, guest));
        } catch (IOException | RuntimeException e) {
            host.close();
            throw e;
        }
    }
}
