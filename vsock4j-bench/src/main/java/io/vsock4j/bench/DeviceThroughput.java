package io.vsock4j.bench;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.link.HostTransport;
import io.vsock4j.transport.vhostuser.VhostUserVsock;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The JVM's end of scripts/bench/bench-device.sh: a host machine with a vhost-user-vsock device for
 * guest CID 3 on SOCKET, a receiver on port 5201 that reads each connection to EOF in 64 KiB reads and
 * prints its rate (guest to JVM), and a sender behind a control port 5200: a line {@code send PORT BYTES}
 * makes it connect to (3, PORT) and write BYTES in 64 KiB writes (JVM to guest; the guest's receiver
 * reports that rate). After each transfer it prints where the time went ({@link TransferCost}). Runs
 * until killed. Main thread accepts control lines; one thread receives.
 *
 * <pre>DeviceThroughput SOCKET</pre>
 */
public final class DeviceThroughput {
    private static final int CHUNK_BYTES = 64 * 1024;

    private DeviceThroughput() {
    }

    public static void main(String[] args) throws Exception {
        HostTransport h2g = new HostTransport("bench", false);
        Machine host = Machine.builder().name("bench-host").transport(h2g).build();
        VhostUserVsock device = VhostUserVsock.start(h2g, 3, Path.of(args[0]));
        VsockServerSocket receiver = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 5201));
        VsockServerSocket control = VsockServerSocket.bind(host, VsockAddress.of(VsockAddress.CID_ANY, 5200));
        System.out.println("ready " + device);
        Thread.ofPlatform().name("receiver").start(() -> {
            byte[] buf = new byte[CHUNK_BYTES];
            while (true) {
                try (VsockSocket s = receiver.accept()) {
                    InputStream in = s.getInputStream();
                    long bytes = 0;
                    long start = 0;
                    TransferCost cost = null;
                    for (int n; (n = in.read(buf)) > 0; ) {
                        if (bytes == 0) {
                            start = System.nanoTime();
                            cost = new TransferCost(device);
                        }
                        bytes += n;
                    }
                    double seconds = (System.nanoTime() - start) / 1e9;
                    System.out.printf("guest->jvm %d bytes %.3f s %.3f Gbit/s%n", bytes, seconds, bytes * 8 / seconds / 1e9);
                    if (cost != null) {
                        System.out.println("guest->jvm " + cost.report(bytes));
                    }
                } catch (Exception e) {
                    System.out.println("receiver failed: " + e);
                    return;
                }
            }
        });
        byte[] buf = new byte[CHUNK_BYTES];
        while (true) {
            String[] line;
            try (VsockSocket c = control.accept()) {
                line = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.US_ASCII)).readLine().split(" ");
            }
            long total = Long.parseLong(line[2]);
            long left = total;
            TransferCost cost;
            try (VsockSocket s = VsockSocket.connect(host, VsockAddress.of(3, Integer.parseInt(line[1])))) {
                cost = new TransferCost(device);
                OutputStream out = s.getOutputStream();
                for (; left > 0; left -= CHUNK_BYTES) {
                    out.write(buf, 0, (int) Math.min(CHUNK_BYTES, left));
                }
            }
            System.out.println("jvm->guest " + cost.report(total));
        }
    }
}
