package io.vsock4j.cli.device;

import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.hybrid.HybridHost;
import io.vsock4j.transport.link.HostTransport;
import io.vsock4j.transport.loopback.LoopbackTransport;
import io.vsock4j.transport.shared.GuestRelay;
import io.vsock4j.transport.shared.SharedMachine;
import io.vsock4j.transport.vhostuser.VhostUserVsock;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * What {@code vsock device} runs: an H2G transport holding a vhost-user-vsock device per {@code --vm},
 * and a hybrid bridge per {@code --vm} with a {@code uds-path}. Guests that share a sibling group reach
 * each other (CID > 2, with VMADDR_FLAG_TO_HOST), as vhost-device-vsock's do. Whose H2G it is:
 * <ul>
 *   <li>a shared machine's ({@link #onSharedMachine}, the command's default): every process of the
 *       user's machine is the guests' host, as on a real host, so {@code vsock nc 3 5000} in another
 *       shell reaches guest 3 and a guest's connect to (2, P) reaches whichever process listens on P. The
 *       devices' packets go through a {@link GuestRelay}; the bridges use a machine joined like any other
 *       process's;</li>
 *   <li>this JVM's own machine ({@link #onOwnMachine}, {@code --transport java}): H2G and the Java
 *       loopback in this process only. It may bind ports up to 1023: it is this process's own, and
 *       guests expect to reach ports such as 52 on the host.</li>
 * </ul>
 *
 * <p>Threads: built and closed by the command's thread or the shutdown hook; {@link #close} is
 * idempotent and {@link #awaitClosed} returns once it ran. The devices and bridges run their own threads.
 */
public final class DeviceHost implements AutoCloseable {
    private final Machine machine;
    private final HostTransport h2g;
    /** Null on this JVM's own machine. */
    private final GuestRelay relay;
    private final HybridHost hybrid;
    private final List<VhostUserVsock> devices = new ArrayList<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final PrintStream err;

    private DeviceHost(PrintStream err, HostTransport h2g, Machine machine, GuestRelay relay) {
        this.err = err;
        this.h2g = h2g;
        this.machine = machine;
        this.relay = relay;
        this.hybrid = new HybridHost(machine, h2g);
    }

    /**
     * Starts a device (and a bridge, with uds-path) for each of {@code vms} as the H2G of the user's
     * shared machine {@code machineName}; on failure closes what started.
     *
     * @throws IOException EADDRINUSE when another device process serves one of the guest CIDs there
     */
    public static DeviceHost onSharedMachine(List<VmSpec> vms, String machineName, PrintStream err) throws IOException {
        VmSpecs.checkDistinct(vms);
        HostTransport h2g = new HostTransport("vhost-user", true);
        GuestRelay relay = GuestRelay.start(machineName, h2g, vms.stream().map(VmSpec::guestCid).toList());
        Machine machine;
        try {
            machine = SharedMachine.connect(machineName);
        } catch (IOException | RuntimeException e) {
            relay.close();
            h2g.close();
            throw e;
        }
        return startDevices(new DeviceHost(err, h2g, machine, relay), vms);
    }

    /** Starts the devices on a machine of this JVM's own (H2G and the Java loopback); on failure closes what started. */
    public static DeviceHost onOwnMachine(List<VmSpec> vms, PrintStream err) throws IOException {
        VmSpecs.checkDistinct(vms);
        HostTransport h2g = new HostTransport("vhost-user", true);
        Machine machine = Machine.builder().name("device").transport(h2g).transport(new LoopbackTransport())
                .mayBindReservedPorts(true).build();
        return startDevices(new DeviceHost(err, h2g, machine, null), vms);
    }

    private static DeviceHost startDevices(DeviceHost host, List<VmSpec> vms) throws IOException {
        PrintStream err = host.err;
        try {
            for (VmSpec vm : vms) {
                host.devices.add(VhostUserVsock.start(host.h2g, vm.guestCid(), vm.socket(), vm.groups()));
                if (vm.udsPath() != null) {
                    host.hybrid.bridge(vm.guestCid(), vm.udsPath());
                }
                err.println("vsock device: guest " + VsockAddress.cidToString(vm.guestCid()) + ": vhost-user socket "
                        + vm.socket() + (vm.udsPath() == null ? "" : ", hybrid vsock on " + vm.udsPath()));
            }
            return host;
        } catch (IOException | RuntimeException e) {
            host.close();
            throw e;
        }
    }

    /** The host machine (CID 2 to the guests, CID 1 locally): the shared machine as this process joined it, or its own. */
    public Machine machine() {
        return machine;
    }

    /** The shared machine's name, or null when the devices run on this JVM's own machine. */
    public String sharedMachine() {
        return relay == null ? null : relay.machineName();
    }

    /** Blocks until {@link #close} ran. */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /** Bridges first (their files go), then the devices (their VMMs are dropped), then the relay and the machine. */
    @Override
    public synchronized void close() {
        if (closed.getCount() == 0) {
            return;
        }
        hybrid.close();
        for (VhostUserVsock d : devices) {
            try {
                d.close();
            } catch (IOException e) {
                err.println("vsock device: closing " + d + ": " + e.getMessage());
            }
        }
        if (relay != null) {
            relay.close(); // the machine's processes lose the guests
            h2g.close();
        }
        machine.close();
        closed.countDown();
    }
}
