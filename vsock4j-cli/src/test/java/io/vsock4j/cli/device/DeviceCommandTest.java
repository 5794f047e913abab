package io.vsock4j.cli.device;

import io.vsock4j.cli.Stdio;
import io.vsock4j.cli.VsockCommand;
import io.vsock4j.cli.TransportChoice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(60)
class DeviceCommandTest {
    private record Result(int exit, String out, String err) {
    }

    private static Result vsock(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Stdio stdio = new Stdio(new ByteArrayInputStream(new byte[0]), out, new PrintStream(err, true, StandardCharsets.UTF_8));
        TransportChoice.Source none = (choice, machine) -> {
            throw new AssertionError("vsock device opens no provider");
        };
        int exit = VsockCommand.execute(stdio, none, args);
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void badVmOptionsAreUsageErrorsInOneLine() {
        for (List<String> args : List.of(
                List.of("device"),
                List.of("device", "--vm", "guest-cid=2,socket=/tmp/x"),
                List.of("device", "--vm", "guest-cid=3,socket=/tmp/x,queue=5"),
                List.of("device", "--vm", "guest-cid=3,socket=/tmp/x,groups=red+"),
                List.of("device", "--vm", "guest-cid=3,socket=/tmp/x", "--vm", "guest-cid=3,socket=/tmp/y"),
                List.of("device", "--vm", "guest-cid=3,socket=/tmp/x", "--vm", "guest-cid=4,socket=/tmp/x"))) {
            Result r = vsock(args.toArray(String[]::new));
            assertThat(r.exit()).as("%s: %s", args, r.err()).isEqualTo(VsockCommand.EXIT_USAGE);
            assertThat(r.err().strip().lines()).as("%s: %s", args, r.err()).hasSize(1);
            assertThat(r.err()).startsWith("vsock device: ").contains("--help").doesNotContain("Exception");
        }
    }

    @Test
    void helpShowsTheKeysAndAQemuCommandLine() {
        Result r = vsock("device", "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("--vm", "guest-cid=N", "uds-path=PATH", "groups=G1+G2", "tx-buffer-size=BYTES",
                "accepted for compatibility", "CONNECT <port>", "<uds-path>_P",
                "-object memory-backend-memfd,id=mem,size=2G,share=on -machine memory-backend=mem",
                "-chardev socket,id=c0,path=/tmp/vm3.vhost -device vhost-user-vsock-pci,chardev=c0");
    }

    @Test
    void aSocketPathInUseIsARuntimeFailureInOneLine() throws Exception {
        Path dir = Files.createTempDirectory("dev");
        Path plain = Files.writeString(dir.resolve("not-a-socket"), "x");
        Result r = vsock("--transport", "java", "device", "--vm", "guest-cid=3,socket=" + dir.resolve("vm.sock") + ",uds-path=" + plain);
        assertThat(r.exit()).as(r.err()).isEqualTo(VsockCommand.EXIT_FAILURE);
        assertThat(r.err()).contains("vsock device: EADDRINUSE", "not a socket");
        assertThat(dir.resolve("vm.sock")).as("the device that started is closed again").doesNotExist();
        Files.delete(plain);
        Files.delete(dir);
    }

    @Test
    void theHostStartsEachDeviceAndBridgeAndRemovesTheirFilesOnClose() throws Exception {
        Path dir = Files.createTempDirectory("dev");
        List<VmSpec> vms = List.of(
                VmSpec.parse("guest-cid=3,socket=" + dir.resolve("vm3.vhost") + ",uds-path=" + dir.resolve("vm3.vsock")),
                VmSpec.parse("guest-cid=4,socket=" + dir.resolve("vm4.vhost")));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        DeviceHost host = DeviceHost.onOwnMachine(vms, new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertThat(dir.resolve("vm3.vhost")).exists();
            assertThat(dir.resolve("vm4.vhost")).exists();
            assertThat(dir.resolve("vm3.vsock")).exists();
            assertThat(host.machine().localCid()).isEqualTo(2);
            // No guest is running yet: a CONNECT is closed without a reply.
            try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("vm3.vsock")))) {
                c.write(ByteBuffer.wrap("CONNECT 5000\n".getBytes(StandardCharsets.US_ASCII)));
                assertThat(c.read(ByteBuffer.allocate(16))).isEqualTo(-1);
            }
        } finally {
            host.close();
        }
        host.awaitClosed();
        try (var left = Files.list(dir)) {
            assertThat(left.toList()).isEmpty();
        }
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("vsock device: guest 3: vhost-user socket " + dir.resolve("vm3.vhost") + ", hybrid vsock on "
                        + dir.resolve("vm3.vsock"))
                .contains("vsock device: guest 4: vhost-user socket " + dir.resolve("vm4.vhost"));
        Files.delete(dir);
        assertThatThrownBy(() -> DeviceHost.onOwnMachine(List.of(vms.get(0), vms.get(0)), System.err))
                .hasMessageContaining("given to two --vm");
    }
}
