package io.vsock4j;

import io.vsock4j.machines.Machines;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Blocking on the Java engine: thousands of parked readers, and no thread left behind by a closed
 * machine. Close and interrupt waking blocked calls is the conformance suite's (BlockingCases), run on
 * every transport.
 */
class BlockingTest extends LoopbackFixture {

    @Test
    void thousandsOfVirtualThreadsBlockedInReadDoNotStopTheMachine() throws Exception {
        VsockServerSocket server = track(VsockServerSocket.open(machine));
        server.bind(VsockAddress.of(VsockAddress.CID_ANY, 9107), 4096);
        int n = 2000;
        List<VsockSocket> clients = new ArrayList<>();
        List<Future<Integer>> readers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            VsockSocket c = connect(9107);
            clients.add(c);
            VsockSocket a = track(server.accept());
            readers.add(peer(() -> a.getInputStream().read()));
        }
        // All parked; a new connection still works end to end.
        VsockSocket fresh = connect(9107);
        VsockSocket freshAccepted = track(server.accept());
        fresh.getOutputStream().write(5);
        assertThat(freshAccepted.getInputStream().read()).isEqualTo(5);
        for (int i = 0; i < n; i++) {
            clients.get(i).getOutputStream().write(i & 0xFF);
        }
        for (int i = 0; i < n; i++) {
            assertThat(readers.get(i).get(10, TimeUnit.SECONDS)).isEqualTo(i & 0xFF);
        }
    }

    @Test
    void closingTheMachineLeavesNoThreadBehind() throws Exception {
        Set<String> before = vsockThreads();
        io.vsock4j.core.Machine m = io.vsock4j.machines.Machines.loopback();
        VsockServerSocket server = VsockServerSocket.bind(m, VsockAddress.of(VsockAddress.CID_ANY, 9108));
        VsockSocket c = VsockSocket.connect(m, VsockAddress.local(9108));
        VsockSocket a = server.accept();
        c.getOutputStream().write(1); // unread at the peer, so the peer does not answer the close with RST
        c.close(); // starts the close timer thread, waiting for the peer
        assertThat(vsockThreads()).hasSizeGreaterThan(before.size());
        a.close();
        server.close();
        m.close();
        for (int i = 0; i < 200 && !vsockThreads().equals(before); i++) {
            Thread.sleep(10);
        }
        assertThat(vsockThreads()).isEqualTo(before);
        assertThatThrownBy(() -> m.open(SocketType.STREAM)).hasMessageContaining("closed");
    }

    private static Set<String> vsockThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(t -> t.getName() + "#" + t.threadId())
                .filter(name -> name.startsWith("vsock4j"))
                .collect(Collectors.toSet());
    }
}
