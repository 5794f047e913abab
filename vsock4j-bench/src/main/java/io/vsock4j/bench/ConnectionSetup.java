package io.vsock4j.bench;

import io.vsock4j.machines.Machines;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/**
 * Connections per second: connect, one byte each way, close, against a server thread that accepts,
 * echoes one byte and closes. The vsock loopback against Java TCP over 127.0.0.1.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class ConnectionSetup {
    @Param({"vsock", "tcp"})
    public String transport;

    private Machine machine;
    private VsockServerSocket vsockServer;
    private ServerSocket tcpServer;
    private Thread server;

    @Setup
    public void setUp() throws IOException {
        if (transport.equals("vsock")) {
            machine = Machines.loopback();
            vsockServer = VsockServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, 5000));
            server = Thread.ofPlatform().daemon().start(() -> serve(() -> {
                VsockSocket s = vsockServer.accept();
                return new Conn(s, s.getInputStream(), s.getOutputStream());
            }));
        } else {
            tcpServer = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
            server = Thread.ofPlatform().daemon().start(() -> serve(() -> {
                Socket s = tcpServer.accept();
                s.setTcpNoDelay(true);
                return new Conn(s, s.getInputStream(), s.getOutputStream());
            }));
        }
    }

    private record Conn(Closeable socket, InputStream in, OutputStream out) {
    }

    private interface Acceptor {
        Conn accept() throws IOException;
    }

    private static void serve(Acceptor acceptor) {
        try {
            while (true) {
                Conn c = acceptor.accept();
                int b = c.in().read();
                c.out().write(b);
                c.socket().close();
            }
        } catch (IOException closed) {
            // tear-down
        }
    }

    @Benchmark
    public int connectExchangeClose() throws IOException {
        if (machine != null) {
            try (VsockSocket s = VsockSocket.connect(machine, VsockAddress.local(5000))) {
                s.getOutputStream().write(7);
                return s.getInputStream().read();
            }
        }
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tcpServer.getLocalPort())) {
            s.setTcpNoDelay(true);
            s.getOutputStream().write(7);
            return s.getInputStream().read();
        }
    }

    @TearDown
    public void tearDown() throws Exception {
        if (machine != null) {
            vsockServer.close();
            machine.close();
        } else {
            tcpServer.close();
        }
        server.join(5_000);
    }
}
