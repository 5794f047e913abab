package io.vsock4j.cli.perf;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.SocketProvider;

import java.io.IOException;
import java.io.PrintStream;

/**
 * {@code vsock perf}'s receiver and sender, one end of a transfer whose other end may be another process,
 * another machine, or vsock_perf itself: the wire carries only the data, the sender's close ends it, and
 * the receiver takes one connection, as vsock_perf does. Each end reports its warm rate (after the
 * {@code --omit} start) and its whole-run rate. Main thread.
 */
final class OneEnd {
    private OneEnd() {
    }

    static Transfer.Result receive(SocketProvider provider, int port, long vskBytes, int bufSize, long omitNanos,
                                   PrintStream progress) throws IOException {
        try (VsockServerSocket server = VsockServerSocket.open(provider)) {
            StreamPair.setBufferSize(server::setOption, vskBytes);
            server.bind(VsockAddress.of(VsockAddress.CID_ANY, port));
            progress.println("vsock perf: receiving on " + server.getLocalAddress() + "...");
            try (VsockSocket s = server.accept()) {
                return Transfer.receive(s.getInputStream(), bufSize, omitNanos);
            }
        }
    }

    static Transfer.Result send(SocketProvider provider, VsockAddress remote, long vskBytes, long bytes, int bufSize,
                                long omitNanos) throws IOException {
        try (VsockSocket s = VsockSocket.open(provider)) {
            StreamPair.setBufferSize(s::setOption, vskBytes);
            s.connect(remote);
            Transfer.Result r = Transfer.send(s.getOutputStream(), bytes, bufSize, omitNanos);
            s.shutdownOutput();
            return r;
        }
    }

    /** vsock_perf's first lines, then the warm rate (or why there is none) and the whole-run rate. */
    static String text(String role, Transfer.Result r) {
        String total = role.equals("rx") ? "total bytes received: " : "total bytes sent: ";
        String warm;
        if (r.omitNanos() <= 0) {
            warm = String.format("%s performance: %.3f Gbit/s (nothing omitted: --omit 0)", role, r.gbitPerSecond());
        } else if (r.hasWarmPart()) {
            warm = String.format("%s performance: %.3f Gbit/s warm (%d bytes in %.3f s; omitted: the first %.3f s "
                            + "and %d bytes, --omit %s s or half the run)", role, r.warmGbitPerSecond(), r.warmBytes(),
                    r.warmNanos() / 1e9, r.omittedNanos() / 1e9, r.omittedBytes(), seconds(r.omitNanos()));
        } else {
            warm = String.format("%s performance: %.3f Gbit/s whole run (too short to leave a warm-up out)", role,
                    r.gbitPerSecond());
        }
        return total + r.bytes() + System.lineSeparator() + warm + System.lineSeparator()
                + String.format("%s whole run: %.3f Gbit/s (%d bytes in %.3f s)", role, r.gbitPerSecond(), r.bytes(),
                r.nanos() / 1e9);
    }

    private static String seconds(long nanos) {
        return Json.number(nanos / 1e9);
    }

    static String json(String role, Transfer.Result r) {
        String warm = r.hasWarmPart()
                ? "{\"bytes\":" + r.warmBytes() + ",\"seconds\":" + Json.number(r.warmNanos() / 1e9)
                        + ",\"gbps\":" + Json.number(r.warmGbitPerSecond())
                        + ",\"omittedBytes\":" + r.omittedBytes() + ",\"omittedSeconds\":"
                        + Json.number(r.omittedNanos() / 1e9) + "}"
                : "null";
        return "{\"mode\":" + Json.string(role.equals("rx") ? "receiver" : "sender")
                + ",\"omitSeconds\":" + Json.number(r.omitNanos() / 1e9)
                + ",\"warm\":" + warm
                + ",\"whole\":{\"bytes\":" + r.bytes() + ",\"seconds\":" + Json.number(r.nanos() / 1e9)
                + ",\"gbps\":" + Json.number(r.gbitPerSecond()) + "}}";
    }
}
