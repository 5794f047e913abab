package io.vsock4j.conformance;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.SocketProvider;
import io.vsock4j.transport.kernel.KernelGuard;
import io.vsock4j.transport.kernel.KernelVsock;
import io.vsock4j.transport.shared.SharedMachine;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The suite in a JVM of its own, for {@link ConformanceTest}: the server halves of a two-process run on a
 * shared machine ({@code shared DIR server CONTROL_PORT BASE_PORT}); every case in process on the
 * kernel's AF_VSOCK inside the QEMU guest ({@code kernel BASE_PORT}); or, in a guest whose vsock device
 * is a JVM's ({@link AcrossTheDevice}), the guest's halves on its kernel with the JVM's halves as the
 * peer at CID 2 ({@code kernel-remote ROLES CONTROL_CID CONTROL_PORT BASE_PORT}, ROLES {@code client},
 * {@code server} or both in that order, {@code client,server}: one run and one control connection to
 * {@code CONTROL_CID:CONTROL_PORT} each). The kernel modes are refused outside the guest. Prints the
 * suite's lines on stdout; exits 0 when no case failed. Main thread.
 */
public final class SuiteMain {
    /** How long the shared machine's daemon outlives its last process: the test deletes its directory after. */
    static final Duration DAEMON_IDLE_EXIT = Duration.ofSeconds(1);

    private SuiteMain() {
    }

    public static void main(String[] args) throws Exception {
        ConformanceSuite.Summary summary = switch (args.length > 0 ? args[0] : "") {
            case "shared" -> sharedServer(Path.of(args[1]), Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            case "kernel" -> kernel(Integer.parseInt(args[1]));
            case "kernel-remote" -> kernelRemote(args[1], Integer.parseUnsignedInt(args[2]), Integer.parseUnsignedInt(args[3]),
                    Integer.parseInt(args[4]));
            default -> {
                System.err.println("usage: SuiteMain shared DIR server CONTROL_PORT BASE_PORT | kernel BASE_PORT"
                        + " | kernel-remote client|server|client,server CONTROL_CID CONTROL_PORT BASE_PORT");
                System.exit(2);
                yield null;
            }
        };
        System.out.flush();
        System.exit(summary.failed() == 0 ? 0 : 1);
    }

    private static ConformanceSuite.Summary sharedServer(Path dir, int controlPort, int basePort) throws Exception {
        try (Machine machine = SharedMachine.connect(dir, DAEMON_IDLE_EXIT)) {
            ConformanceSuite suite = new ConformanceSuite(Target.loopback(machine), basePort);
            Socket control = RemoteRun.acceptControl(new InetSocketAddress("127.0.0.1", controlPort));
            return new RemoteRun(suite, true).run(control, System.out, name -> true);
        }
    }

    private static ConformanceSuite.Summary kernel(int basePort) throws Exception {
        SocketProvider kernel = kernelInGuest();
        Target target = Target.of(kernel, VsockAddress.CID_LOCAL);
        System.out.println("KERNEL " + target.serverKernel());
        return new ConformanceSuite(target, basePort).runInProcess(System.out, name -> true);
    }

    /** The guest's halves of each role in turn, the peer (and the control port) at {@code controlCid}. */
    private static ConformanceSuite.Summary kernelRemote(String roles, int controlCid, int controlPort, int basePort)
            throws Exception {
        SocketProvider kernel = kernelInGuest();
        Target target = Target.of(kernel, controlCid);
        System.out.println("KERNEL " + target.serverKernel());
        int passed = 0;
        int failed = 0;
        int differing = 0;
        for (String role : roles.split(",")) {
            if (!role.equals("client") && !role.equals("server")) {
                throw new IllegalArgumentException("kernel-remote: a role is client or server, not '" + role + "'");
            }
            System.out.println("ROLE " + role);
            VsockSocket control = RemoteRun.connectControl(kernel, VsockAddress.of(controlCid, controlPort));
            ConformanceSuite.Summary one = new RemoteRun(new ConformanceSuite(target, basePort), role.equals("server"))
                    .run(control, System.out, name -> true);
            passed += one.passed();
            failed += one.failed();
            differing += one.differing();
        }
        return new ConformanceSuite.Summary(passed, failed, differing);
    }

    private static SocketProvider kernelInGuest() {
        if (!KernelGuard.current().inGuest()) {
            System.err.println("SuiteMain: not inside the vsock4j guest (/proc/cmdline lacks " + KernelGuard.GUEST_MARKER + ")");
            System.exit(3);
        }
        return KernelVsock.provider();
    }
}
