package io.vsock4j.cli.device;

import io.vsock4j.cli.CliFailure;
import io.vsock4j.cli.VsockCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code vsock device}: vsock4j's vhost-user-vsock device as a program, where rust-vmm's
 * vhost-device-vsock goes in a QEMU set-up, with the same {@code --vm} option. It runs until SIGINT or
 * SIGTERM; a shutdown hook then closes the bridges, the devices and the machine, which removes the
 * socket files.
 *
 * <p>Threads: the command's thread starts everything and waits; the shutdown hook closes. The device's
 * and the bridges' own threads are theirs (see DeviceHost).
 */
@Command(name = "device", mixinStandardHelpOptions = true, usageHelpWidth = 120,
        description = {"Serve vhost-user-vsock devices to QEMU, as vhost-device-vsock does: each --vm's guest gets a",
                "virtio-vsock device whose host end is this JVM (CID 2 to the guest; CID 1 here too). With uds-path,",
                "programs on the host reach the guest Firecracker's way (hybrid vsock):",
                "  host -> guest: connect to uds-path, send 'CONNECT <port>\\n', read 'OK <n>\\n' (n: the host-side port",
                "      the guest sees as its peer's); then the socket is the connection. No guest listener: closed, no reply.",
                "  guest -> host port P: reaches the program listening on the Unix socket <uds-path>_P, created before or",
                "      while the device runs, even where a vsock listener holds P (it gets the other guests' connects).",
                "The guests' host is your shared machine (--machine, default 'default'): 'vsock nc 3 5000' in another shell",
                "reaches guest 3, and a guest's connect to (2, P) reaches whichever vsock process there listens on P.",
                "With --transport java the host is this process alone.",
                "Runs until SIGINT or SIGTERM, then removes its sockets. The VMM's comings and goings are logged on stderr."},
        footer = {"", "--vm keys:",
                "  guest-cid=N           the guest's CID, 3..4294967294 (required)",
                "  socket=PATH           the vhost-user socket QEMU's -chardev connects to (required)",
                "  uds-path=PATH         hybrid vsock socket; <uds-path>_P for guest -> host port P",
                "  groups=G1+G2          sibling groups (default: 'default'): a guest reaches another guest of this",
                "                        device (CID > 2) only when they share a group.",
                "  tx-buffer-size=BYTES  accepted for compatibility and checked (1 to 4294967295, K/M/G suffixes);",
                "                        no effect today: the engine's credit (256 KiB per connection) bounds buffering",
                "  queue-size=N          accepted for compatibility: a power of two up to 1024; QEMU sets the ring size",
                "",
                "Example, with QEMU (guest RAM must be shared with this process):",
                "  vsock device --vm guest-cid=3,socket=/tmp/vm3.vhost,uds-path=/tmp/vm3.vsock &",
                "  qemu-system-x86_64 -machine q35,accel=kvm -m 2G \\",
                "      -object memory-backend-memfd,id=mem,size=2G,share=on -machine memory-backend=mem \\",
                "      -chardev socket,id=c0,path=/tmp/vm3.vhost -device vhost-user-vsock-pci,chardev=c0 \\",
                "      -drive file=guest.img,if=virtio -nographic",
                "  # in the guest:   ncat --vsock -l 5000",
                "  # on the host:    (echo 'CONNECT 5000'; cat) | socat - UNIX-CONNECT:/tmp/vm3.vsock",
                "  # guest -> host:  socat UNIX-LISTEN:/tmp/vm3.vsock_52,fork - on the host; ncat --vsock 2 52 in the guest",
                "  # or, in another shell on the host: vsock nc 3 5000 (and vsock nc -l 52 for the guest's connect)"})
public final class DeviceCommand implements Callable<Integer> {
    @ParentCommand
    VsockCommand root;

    @Spec
    CommandSpec spec;

    @Option(names = "--vm", required = true, paramLabel = "guest-cid=N,socket=PATH[,uds-path=PATH][,...]",
            converter = VmConverter.class, description = "A guest to serve (repeatable); keys below.")
    List<VmSpec> vms;

    @Option(names = {"-v", "--verbose"}, description = "Log the device's debug lines too (each vhost-user request, each bridged connection).")
    boolean verbose;

    /** picocli's converter: a bad --vm is a usage error in one line. */
    static final class VmConverter implements ITypeConverter<VmSpec> {
        @Override
        public VmSpec convert(String value) {
            try {
                return VmSpec.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintStream err = root.stdio().err();
        try {
            VmSpecs.checkDistinct(vms);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        String shared = switch (root.transport()) {
            case JAVA -> null;
            case AUTO, SHARED -> root.sharedMachineName();
            case KERNEL -> throw new ParameterException(spec.commandLine(), "vsock device serves its guests on a"
                    + " vsock4j machine, not the kernel's: use --transport shared (the default) or java");
        };
        OneLineLog.install(err, verbose);
        DeviceHost host;
        try {
            host = shared == null ? DeviceHost.onOwnMachine(vms, err) : DeviceHost.onSharedMachine(vms, shared, err);
        } catch (IOException e) {
            throw new CliFailure(VsockCommand.describe(e));
        }
        err.println(shared == null ? "vsock device: the guests' host is this process only (--transport java)"
                : "vsock device: the guests' host is shared machine '" + shared + "': any vsock process there reaches them");
        root.capture(host.machine());
        Thread hook = Thread.ofPlatform().name("vsock device shutdown").unstarted(() -> {
            err.println("vsock device: stopping");
            host.close();
            err.println("vsock device: stopped");
            err.flush();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        err.println("vsock device: ready; waiting for QEMU (stop with Ctrl-C or SIGTERM)");
        err.flush();
        host.awaitClosed();
        return VsockCommand.EXIT_OK;
    }
}
