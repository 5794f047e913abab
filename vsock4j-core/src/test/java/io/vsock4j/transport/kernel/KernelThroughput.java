package io.vsock4j.transport.kernel;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * The Java side of docs/benchmarks-kernel.md (scripts/bench/bench-kernel.sh runs it in the guest): one
 * STREAM connection through the kernel provider, 64 KiB writes; the receiver prints Gbit/s from its first
 * byte to EOF, in the same format as scripts/bench/vsock_bench.c. Before the measured transfer, each side
 * warms up: {@code -Dvsock4j.bench.warmUpBytes} (default 256 MiB) through the kernel's loopback inside this JVM (port + 1000 for the receiver, + 2000 for the sender), so
 * the JIT has compiled the path that is measured (under TCG a fresh JVM runs it interpreted for seconds).
 *
 * <pre>
 *   KernelThroughput recv PORT
 *   KernelThroughput send CID PORT BYTES
 * </pre>
 */
public final class KernelThroughput {
    private static final int CHUNK = 64 * 1024;
    private static final long WARM_UP_BYTES = Long.getLong("vsock4j.bench.warmUpBytes", 256L << 20);

    private KernelThroughput() {
    }

    public static void main(String[] args) throws Exception {
        KernelProvider kernel = KernelVsock.provider(); // refuses outside the guest
        byte[] buf = new byte[CHUNK];
        if (args.length >= 2) {
            // Receiver and sender may both be Java: each warms up on a port of its own.
            boolean receiver = args[0].equals("recv");
            warmUp(kernel, Integer.parseInt(args[receiver ? 1 : 2]) + (receiver ? 1000 : 2000));
        }
        if (args.length == 2 && args[0].equals("recv")) {
            try (VsockServerSocket server = VsockServerSocket.bind(kernel, VsockAddress.of(VsockAddress.CID_ANY, Integer.parseInt(args[1])));
                 VsockSocket s = server.accept()) {
                InputStream in = s.getInputStream();
                long total = 0;
                long start = 0;
                int n;
                while ((n = in.read(buf, 0, CHUNK)) > 0) {
                    if (total == 0) {
                        start = System.nanoTime();
                    }
                    total += n;
                }
                double secs = (System.nanoTime() - start) / 1e9;
                System.out.printf("java-recv bytes=%d seconds=%.3f gbits=%.3f%n", total, secs, total * 8 / secs / 1e9);
            }
        } else if (args.length == 4 && args[0].equals("send")) {
            long want = Long.parseLong(args[3]);
            Arrays.fill(buf, (byte) 'v');
            try (VsockSocket s = connectWhenListening(kernel, VsockAddress.of(Integer.parseInt(args[1]), Integer.parseInt(args[2])))) {
                OutputStream out = s.getOutputStream();
                for (long sent = 0; sent < want; sent += CHUNK) {
                    out.write(buf, 0, (int) Math.min(CHUNK, want - sent));
                }
            }
        } else {
            System.err.println("usage: KernelThroughput recv PORT | send CID PORT BYTES");
            System.exit(2);
        }
    }

    /** Moves {@link #WARM_UP_BYTES} from one thread to another of this JVM over the kernel's CID 1. */
    private static void warmUp(KernelProvider kernel, int port) throws Exception {
        try (VsockServerSocket server = VsockServerSocket.bind(kernel, VsockAddress.of(VsockAddress.CID_ANY, port))) {
            Thread sender = Thread.ofPlatform().start(() -> {
                byte[] b = new byte[CHUNK];
                try (VsockSocket s = VsockSocket.connect(kernel, VsockAddress.local(port))) {
                    for (long sent = 0; sent < WARM_UP_BYTES; sent += CHUNK) {
                        s.getOutputStream().write(b);
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (VsockSocket s = server.accept()) {
                byte[] b = new byte[CHUNK];
                InputStream in = s.getInputStream();
                while (in.read(b, 0, CHUNK) > 0) {
                    // discard
                }
            }
            sender.join();
        }
    }

    /** The receiver may still be starting: retry a reset connect for up to 30 s. */
    private static VsockSocket connectWhenListening(KernelProvider kernel, VsockAddress to) throws Exception {
        for (int tries = 0; ; tries++) {
            try {
                return VsockSocket.connect(kernel, to);
            } catch (java.net.ConnectException notYet) {
                if (tries == 300) {
                    throw notYet;
                }
                Thread.sleep(100);
            }
        }
    }
}
