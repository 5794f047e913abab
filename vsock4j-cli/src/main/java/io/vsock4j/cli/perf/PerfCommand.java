package io.vsock4j.cli.perf;

import io.vsock4j.cli.TransportChoice;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.cli.Converters;
import io.vsock4j.cli.VsockCommand;
import io.vsock4j.spi.SocketProvider;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.net.SocketOption;
import java.util.concurrent.Callable;

/**
 * {@code vsock perf}: throughput like the kernel's tools/testing/vsock/vsock_perf. A receiver by default
 * (listen on --port, read one connection to EOF, print rx Gbit/s); {@code --sender CID} connects and
 * sends --bytes in --buf-size writes (tx Gbit/s). {@code --local} runs both in this JVM over CID 1;
 * {@code --compare} does that and the same transfer over TCP on 127.0.0.1 and a Unix domain socket,
 * and prints the ratios. Main thread (plus one virtual thread for an in-process receiver).
 */
@Command(name = "perf", mixinStandardHelpOptions = true,
        description = {"Measure vsock throughput, like the kernel's vsock_perf.",
                "Receiver by default; --sender CID sends; --local runs both ends in this JVM over CID 1;",
                "--compare also runs TCP loopback (127.0.0.1) and a Unix domain socket and prints the ratios."},
        footer = {"", "Examples:", "  vsock perf --compare --bytes 256M", "  vsock perf --port 1234         # receiver",
                "  vsock perf --sender 3 --bytes 1G"})
public final class PerfCommand implements Callable<Integer> {
    /** vsock_perf's DEFAULT_PORT. */
    static final int DEFAULT_PORT = 1234;

    @ParentCommand
    VsockCommand root;

    @Spec
    CommandSpec spec;

    @Option(names = "--sender", paramLabel = "CID", converter = Converters.Cid.class,
            description = "Send to CID instead of receiving.")
    Integer senderCid;

    @Option(names = "--port", paramLabel = "PORT", converter = Converters.Port.class,
            description = "Port to listen on or connect to (default ${DEFAULT-VALUE}).")
    int port = DEFAULT_PORT;

    @Option(names = "--bytes", paramLabel = "BYTES", converter = Converters.Bytes.class,
            description = "Bytes to send, with K, M, G suffixes (default 64M; vsock_perf's is 64K).")
    long bytes = 64L << 20;

    @Option(names = "--buf-size", paramLabel = "BYTES", converter = Converters.Bytes.class,
            description = "Size of each write and read (default 128K).")
    long bufSize = 128L << 10;

    @Option(names = "--vsk-size", paramLabel = "BYTES", converter = Converters.Bytes.class,
            description = "SO_VM_SOCKETS_BUFFER_SIZE (and _MAX_SIZE) of the sockets (default 256K).")
    long vskSize = 256L << 10;

    @Option(names = "--local", description = "Run receiver and sender in this JVM, over CID 1.")
    boolean local;

    @Option(names = "--compare", description = "In this JVM: vsock, then TCP on 127.0.0.1, then a Unix domain socket; print ratios.")
    boolean compare;

    @Override
    public Integer call() throws Exception {
        if (bufSize > Integer.MAX_VALUE - 8) {
            throw new ParameterException(spec.commandLine(), "--buf-size is too large: " + bufSize);
        }
        if (senderCid != null && (local || compare)) {
            throw new ParameterException(spec.commandLine(), "--sender runs one side; --local and --compare run both in this JVM");
        }
        PrintStream out = root.stdio().text();
        // Both ends in this JVM: under "auto" there is no one to share a machine with, so the transfer
        // runs on the kernel's loopback where allowed, else on a machine of this JVM.
        SocketProvider provider = (local || compare) && root.transport() == TransportChoice.AUTO
                ? root.inProcessProvider() : root.provider();
        if (compare) {
            compare(out, provider);
        } else if (local) {
            Transfer.Result r = Loopbacks.vsock(provider, port, bytes, (int) bufSize, vskSize);
            out.println("vsock (" + provider.name() + ", CID 1): " + r.describe());
        } else if (senderCid != null) {
            out.println("tx performance: " + send(provider, VsockAddress.of(senderCid, port)).describe());
        } else {
            out.println("rx performance: " + receive(provider).describe());
        }
        return VsockCommand.EXIT_OK;
    }

    private void compare(PrintStream out, SocketProvider provider) throws IOException, InterruptedException {
        Transfer.Result vsock = Loopbacks.vsock(provider, port, bytes, (int) bufSize, vskSize);
        out.println("vsock (" + provider.name() + ", CID 1):  " + vsock.describe());
        Transfer.Result tcp = Loopbacks.tcp(bytes, (int) bufSize);
        out.println("tcp (127.0.0.1):       " + tcp.describe());
        Transfer.Result unix = Loopbacks.unix(bytes, (int) bufSize);
        out.println("unix domain socket:    " + unix.describe());
        out.printf("ratios: vsock/tcp %.2f, vsock/unix %.2f%n",
                vsock.gbitPerSecond() / tcp.gbitPerSecond(), vsock.gbitPerSecond() / unix.gbitPerSecond());
    }

    private Transfer.Result receive(SocketProvider provider) throws IOException {
        try (VsockServerSocket server = VsockServerSocket.open(provider)) {
            setBufferSize(server::setOption, vskSize);
            server.bind(VsockAddress.of(VsockAddress.CID_ANY, port));
            root.stdio().err().println("vsock perf: receiving on " + server.getLocalAddress() + "...");
            try (VsockSocket s = server.accept()) {
                return Transfer.receive(s.getInputStream(), (int) bufSize);
            }
        }
    }

    private Transfer.Result send(SocketProvider provider, VsockAddress remote) throws IOException {
        try (VsockSocket s = VsockSocket.open(provider)) {
            setBufferSize(s::setOption, vskSize);
            s.connect(remote);
            Transfer.Result r = Transfer.send(s.getOutputStream(), bytes, (int) bufSize);
            s.shutdownOutput();
            return r;
        }
    }

    /** Something with setOption: a socket or a listener. */
    @FunctionalInterface
    interface OptionSetter {
        <T> Object set(SocketOption<T> option, T value) throws IOException;
    }

    /** As vsock_perf: raise the maximum first, or the size would be clamped to the old one. */
    static void setBufferSize(OptionSetter socket, long bytes) throws IOException {
        socket.set(VsockOptions.BUFFER_MAX_SIZE, bytes);
        socket.set(VsockOptions.BUFFER_SIZE, bytes);
    }
}
