package io.vsock4j.conformance;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.spi.Errno;
import io.vsock4j.SocketHandle;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.vsock4j.conformance.Checks.check;
import static io.vsock4j.conformance.Checks.equal;
import static io.vsock4j.conformance.Checks.errno;
import static io.vsock4j.conformance.Checks.eventually;

/**
 * Socket cases beyond vsock_test's list that any provider must still answer as Linux does: bind and
 * listen errors, ENOTCONN before connect, the accept queue's limit, accept's timeout, what an accepted
 * socket inherits, option clamping. Most need one side only. Stateless.
 */
final class SocketCases {
    /** Offsets from the case's port for the extra ports a case binds. */
    private static final int SECOND_PORT = 10_000;

    private SocketCases() {
    }

    static List<Case> all() {
        return List.of(
                new Case("bind: the same port twice is EADDRINUSE, by CID_ANY or the local CID",
                        SocketCases::bindTwice, Case.Half.NOTHING),
                new Case("bind: binding a bound socket again is EINVAL",
                        SocketCases::rebindBound, Case.Half.NOTHING),
                new Case("bind: a CID this machine does not own is EADDRNOTAVAIL",
                        SocketCases::bindForeignCid, Case.Half.NOTHING),
                new Case("bind: port any picks 50 distinct ports above the reserved range",
                        SocketCases::portAny, Case.Half.NOTHING),
                new Case("listen: an unbound socket cannot listen (EINVAL)",
                        SocketCases::listenUnbound, Case.Half.NOTHING),
                new Case("stream: before connect, send, receive and shutdown are ENOTCONN",
                        SocketCases::notConnected, Case.Half.NOTHING),
                new Case("options: buffer sizes clamp to the minimum and maximum as the kernel's do",
                        SocketCases::bufferClamp, Case.Half.NOTHING),
                new Case("options: connect timeout and SO_RCVLOWAT round-trip, out-of-range values are EINVAL",
                        SocketCases::optionRoundTrip, Case.Half.NOTHING),
                new Case("accept: SO_RCVTIMEO times accept out (EAGAIN) and the listener stays usable",
                        SocketCases::connectAfterAcceptTimeout, SocketCases::acceptTimeout),
                new Case("accept: the accepted socket inherits the listener's buffer size and sees the client's port",
                        SocketCases::connectAndTell, SocketCases::acceptAndCompare),
                new Case("accept: with backlog 2 three connects queue and the fourth is reset (ECONNRESET)",
                        SocketCases::fillAcceptQueue, SocketCases::listenWithBacklogTwo),
                new Case("listen: a closed listener's port binds again",
                        SocketCases::connectOnce, SocketCases::listenCloseAndRebind));
    }

    // -- bind and listen, one side

    private static void bindTwice(Side s) throws Exception {
        VsockSocket a = s.open();
        a.bind(s.anyLocal());
        VsockSocket b = s.open();
        errno(Errno.EADDRINUSE, "bind " + s.anyLocal() + " again", () -> b.bind(s.anyLocal()));
        errno(Errno.EADDRINUSE, "bind the local CID on the same port", () -> b.bind(VsockAddress.local(s.port())));
        VsockSocket c = s.open();
        VsockAddress second = VsockAddress.local(s.port() + SECOND_PORT);
        c.bind(second);
        errno(Errno.EADDRINUSE, "bind CID_ANY on a port bound to the local CID",
                () -> b.bind(VsockAddress.of(VsockAddress.CID_ANY, second.port())));
    }

    private static void rebindBound(Side s) throws Exception {
        VsockSocket a = s.open();
        a.bind(VsockAddress.any());
        errno(Errno.EINVAL, "bind a bound socket", () -> a.bind(VsockAddress.any()));
    }

    private static void bindForeignCid(Side s) throws Exception {
        VsockSocket socket = s.open();
        errno(Errno.EADDRNOTAVAIL, "bind CID 42", () -> socket.bind(VsockAddress.of(42, s.port())));
    }

    private static void portAny(Side s) throws Exception {
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            VsockSocket socket = s.open();
            socket.bind(VsockAddress.any());
            int port = socket.getLocalAddress().port();
            check(Integer.toUnsignedLong(port) > 1023, "port any picked reserved port " + Integer.toUnsignedString(port));
            ports.add(port);
        }
        equal(ports.size(), 50, "distinct ports picked for 50 sockets");
    }

    private static void listenUnbound(Side s) throws Exception {
        SocketHandle unbound = s.track(s.provider().open(SocketType.STREAM));
        errno(Errno.EINVAL, "listen on an unbound socket", () -> unbound.listen(5));
    }

    private static void notConnected(Side s) throws Exception {
        VsockSocket socket = s.open();
        errno(Errno.ENOTCONN, "send before connect", () -> socket.getOutputStream().write(1));
        errno(Errno.ENOTCONN, "read before connect", () -> socket.getInputStream().read());
        errno(Errno.ENOTCONN, "shutdown before connect", socket::shutdownOutput);
    }

    private static void bufferClamp(Side s) throws Exception {
        VsockSocket socket = s.open();
        equal(socket.getOption(VsockOptions.BUFFER_SIZE), VsockOptions.DEFAULT_BUFFER_SIZE_BYTES, "default buffer size");
        equal(socket.getOption(VsockOptions.BUFFER_MIN_SIZE), VsockOptions.DEFAULT_BUFFER_MIN_SIZE_BYTES, "default minimum");
        equal(socket.getOption(VsockOptions.BUFFER_MAX_SIZE), VsockOptions.DEFAULT_BUFFER_MAX_SIZE_BYTES, "default maximum");
        socket.setOption(VsockOptions.BUFFER_MAX_SIZE, 64L * 1024);
        equal(socket.getOption(VsockOptions.BUFFER_SIZE), 64L * 1024, "buffer size after lowering the maximum");
        socket.setOption(VsockOptions.BUFFER_SIZE, 1L << 20);
        equal(socket.getOption(VsockOptions.BUFFER_SIZE), 64L * 1024, "buffer size set above the maximum");
        socket.setOption(VsockOptions.BUFFER_SIZE, 16L);
        equal(socket.getOption(VsockOptions.BUFFER_SIZE), VsockOptions.DEFAULT_BUFFER_MIN_SIZE_BYTES,
                "buffer size set below the minimum");
    }

    private static void optionRoundTrip(Side s) throws Exception {
        VsockSocket socket = s.open();
        check(VsockOptions.DEFAULT_CONNECT_TIMEOUT.equals(socket.getOption(VsockOptions.CONNECT_TIMEOUT)),
                "default connect timeout: " + socket.getOption(VsockOptions.CONNECT_TIMEOUT));
        socket.setOption(VsockOptions.CONNECT_TIMEOUT, Duration.ofMillis(300));
        check(Duration.ofMillis(300).equals(socket.getOption(VsockOptions.CONNECT_TIMEOUT)),
                "connect timeout read back: " + socket.getOption(VsockOptions.CONNECT_TIMEOUT));
        errno(Errno.EINVAL, "connect timeout of zero", () -> socket.setOption(VsockOptions.CONNECT_TIMEOUT, Duration.ZERO));
        socket.setOption(VsockOptions.SO_RCVLOWAT, 100);
        equal(socket.getOption(VsockOptions.SO_RCVLOWAT), 100, "SO_RCVLOWAT read back");
        errno(Errno.EINVAL, "SO_RCVLOWAT above the buffer size",
                () -> socket.setOption(VsockOptions.SO_RCVLOWAT, (int) VsockOptions.DEFAULT_BUFFER_SIZE_BYTES + 1));
    }

    // -- accept

    private static void acceptTimeout(Side s) throws Exception {
        VsockServerSocket server = s.listen();
        server.setSoTimeout(150);
        errno(Errno.EAGAIN, "accept with nobody connecting", server::accept);
        server.setSoTimeout((int) Control.TIMEOUT_MILLIS);
        s.control().send("LISTENING");
        check(s.track(server.accept()).isConnected(), "the connection accepted after the timeout");
        s.control().expect("CONNECTED"); // closing before the client's connect returns would reset it
    }

    private static void connectAfterAcceptTimeout(Side s) throws Exception {
        s.control().expect("LISTENING");
        s.connect();
        s.control().send("CONNECTED");
    }

    private static void acceptAndCompare(Side s) throws Exception {
        VsockServerSocket server = s.track(VsockServerSocket.open(s.provider()));
        server.setOption(VsockOptions.BUFFER_SIZE, 64L * 1024);
        server.bind(s.anyLocal());
        s.control().send("LISTENING");
        VsockSocket accepted = s.track(server.accept());
        String clientLine = s.control().receive();
        equal(accepted.getOption(VsockOptions.BUFFER_SIZE), 64L * 1024, "the accepted socket's buffer size");
        VsockAddress peer = accepted.getRemoteAddress();
        String[] client = clientLine.split(" ");
        check(client.length == 3 && client[0].equals("CLIENT"), "control: expected 'CLIENT cid port', got '" + clientLine + "'");
        check(Integer.parseUnsignedInt(client[2]) == peer.port(),
                "the accepted socket's peer " + peer + ", the client's own port " + client[2]);
        // Linux (6.1 and 6.12 alike) leaves an auto-bound socket's CID at VMADDR_CID_ANY after connect;
        // the Java engine reports the CID it connected from. Either names the same peer.
        int clientCid = Integer.parseUnsignedInt(client[1]);
        check(clientCid == VsockAddress.CID_ANY || clientCid == peer.cid(),
                "the client's own CID " + Integer.toUnsignedString(clientCid) + ", the server sees " + peer);
        check(accepted.getLocalAddress().port() == s.port(), "the accepted socket's local port: " + accepted.getLocalAddress());
        s.control().send("DONE");
    }

    private static void connectAndTell(Side s) throws Exception {
        s.control().expect("LISTENING");
        VsockSocket socket = s.connect();
        check(s.peer().equals(socket.getRemoteAddress()), "the client's peer address: " + socket.getRemoteAddress());
        VsockAddress local = socket.getLocalAddress();
        s.control().send("CLIENT " + Integer.toUnsignedString(local.cid()) + " " + Integer.toUnsignedString(local.port()));
        s.control().expect("DONE");
    }

    private static void listenWithBacklogTwo(Side s) throws Exception {
        VsockServerSocket server = s.track(VsockServerSocket.open(s.provider()));
        server.bind(s.anyLocal(), 2);
        s.control().send("LISTENING");
        s.control().expect("RESET");
        s.track(server.accept());
        s.control().send("ACCEPTED");
        s.control().expect("DONE");
    }

    /** Linux's sk_acceptq_is_full is "more than backlog": backlog 2 queues three. */
    private static void fillAcceptQueue(Side s) throws Exception {
        s.control().expect("LISTENING");
        for (int i = 0; i < 3; i++) {
            s.connect();
        }
        errno(Errno.ECONNRESET, "a fourth connect to a full accept queue", s::connect);
        s.control().send("RESET");
        s.control().expect("ACCEPTED");
        s.connect(); // room again
        s.control().send("DONE");
    }

    private static void listenCloseAndRebind(Side s) throws Exception {
        VsockServerSocket server = s.listen();
        s.control().send("LISTENING");
        VsockSocket accepted = s.track(server.accept());
        s.control().expect("CONNECTED"); // closing before the client's connect returns would reset it
        accepted.close();
        server.close();
        s.control().send("CLOSED");
        VsockServerSocket[] again = new VsockServerSocket[1];
        eventually("listen on " + s.anyLocal() + " again", () -> {
            try {
                again[0] = s.listen();
                return true;
            } catch (java.net.BindException inUse) {
                return false;
            }
        });
        equal(again[0].getLocalAddress().port(), s.port(), "port of the new listener");
        s.control().expect("DONE");
    }

    private static void connectOnce(Side s) throws Exception {
        s.control().expect("LISTENING");
        VsockSocket socket = s.connect();
        s.control().send("CONNECTED");
        s.control().expect("CLOSED");
        socket.close();
        s.control().send("DONE");
    }
}
