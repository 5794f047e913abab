package io.vsock4j.conformance;

import io.vsock4j.MessageFlags;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.spi.Errno;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.vsock4j.conformance.Checks.check;
import static io.vsock4j.conformance.Checks.equal;
import static io.vsock4j.conformance.Checks.equalBytes;
import static io.vsock4j.conformance.Checks.errno;
import static io.vsock4j.conformance.Checks.eventually;
import static io.vsock4j.conformance.Checks.failsWith;

/**
 * STREAM cases of the checklist (after tools/testing/vsock/vsock_test.c): connection setup and reset,
 * close and shutdown in each direction, peek, merge, SO_RCVLOWAT, queue counters. Stateless.
 */
final class StreamCases {
    private StreamCases() {
    }

    static List<Case> all() {
        return List.of(
                new Case("stream: connect with nothing bound is reset (ECONNRESET)",
                        c -> errno(Errno.ECONNRESET, "connect", c::connect), Case.Half.NOTHING),
                new Case("stream: connect to a bound socket that does not listen is reset (ECONNRESET)",
                        StreamCases::connectExpectingReset, StreamCases::bindWithoutListen),
                new Case("stream: connect may be retried after a failure, and a second connect is EISCONN",
                        StreamCases::retryClient, StreamCases::retryServer),
                new Case("stream: client close: the pending byte is readable, then EOF, then send fails (EPIPE)",
                        StreamCases::sendOneAndClose, StreamCases::readPendingThenEof),
                new Case("stream: server close: the pending byte is readable, then EOF, then send fails (EPIPE)",
                        StreamCases::readPendingThenEofAsClient, StreamCases::acceptSendOneAndClose),
                new Case("stream: 100 connections open at once, a byte each way on each",
                        StreamCases::hundredClients, StreamCases::hundredAccepts),
                new Case("stream: MSG_PEEK: nothing when empty, a partial and a full peek equal the read",
                        StreamCases::peekClient, StreamCases::peekServer),
                new Case("stream: two small writes (HELLO, WORLD) are read as one",
                        StreamCases::helloWorld, StreamCases::readMerged),
                new Case("stream: SHUT_WR: own send fails (EPIPE), the peer reads the data then EOF, the shut side still reads",
                        StreamCases::shutWrite, StreamCases::expectEof),
                new Case("stream: SHUT_RD: the shut side reads EOF, the peer's send fails (EPIPE)",
                        StreamCases::sendAfterPeerShutRead, StreamCases::shutRead),
                new Case("stream: SO_RCVLOWAT: a read waits until that many bytes are queued; EOF releases it below",
                        StreamCases::sendInTwoSteps, StreamCases::readWithLowat),
                new Case("stream: SO_RCVLOWAT of half the buffer: one read waits for it and returns it all",
                        StreamCases::sendOneBuffer, StreamCases::readWholeBuffer),
                new Case("stream: SO_RCVTIMEO: a read times out (EAGAIN) and the socket stays usable",
                        StreamCases::sendAfterTimeout, StreamCases::readWithTimeout),
                new Case("stream: credit: 4 buffers' worth goes through as the reader frees space",
                        StreamCases::sendMegabyte, StreamCases::readMegabyte),
                new Case("stream: SIOCINQ counts queued bytes, SIOCOUTQ unread ones",
                        StreamCases::outqClient, StreamCases::inqServer),
                new Case("stream: the same local port binds again after its connection closed",
                        StreamCases::rebindClient, StreamCases::acceptTwice),
                new Case("stream: an invalid buffer range is refused and the socket stays usable",
                        StreamCases::sendX, StreamCases::readWithBadRanges));
    }

    private static VsockSocket acceptOne(Side s) throws Exception {
        VsockServerSocket server = s.listen();
        s.control().send("LISTENING");
        return s.track(server.accept());
    }

    private static VsockSocket connectWhenListening(Side s) throws Exception {
        s.control().expect("LISTENING");
        return s.connect();
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    // -- reset and retry

    private static void bindWithoutListen(Side s) throws Exception {
        VsockSocket socket = s.open();
        socket.bind(s.anyLocal());
        s.control().send("BOUND");
        s.control().expect("DONE");
    }

    private static void connectExpectingReset(Side s) throws Exception {
        s.control().expect("BOUND");
        errno(Errno.ECONNRESET, "connect", s::connect);
        s.control().send("DONE");
    }

    private static void retryClient(Side s) throws Exception {
        VsockSocket socket = s.open();
        errno(Errno.ECONNRESET, "first connect", () -> socket.connect(s.peer()));
        s.control().send("FAILED");
        s.control().expect("LISTENING");
        socket.connect(s.peer());
        check(socket.isConnected(), "the retried connect did not connect");
        errno(Errno.EISCONN, "connect on a connected socket", () -> socket.connect(s.peer()));
        s.control().send("CONNECTED");
    }

    private static void retryServer(Side s) throws Exception {
        s.control().expect("FAILED");
        VsockServerSocket server = s.listen();
        s.control().send("LISTENING");
        s.track(server.accept());
        s.control().expect("CONNECTED");
    }

    // -- close

    private static void sendOneAndClose(Side s) throws Exception {
        VsockSocket socket = connectWhenListening(s);
        socket.getOutputStream().write('A');
        socket.close();
        s.control().send("CLOSED");
    }

    private static void readPendingThenEof(Side s) throws Exception {
        readPendingThenEofAndEpipe(s, acceptOne(s));
    }

    private static void readPendingThenEofAndEpipe(Side s, VsockSocket socket) throws Exception {
        s.control().expect("CLOSED");
        InputStream in = socket.getInputStream();
        equal(in.read(), 'A', "the byte sent before close");
        equal(in.read(), -1, "read after the peer's close (EOF)");
        errno(Errno.EPIPE, "send to a closed peer", () -> socket.getOutputStream().write('B'));
    }

    private static void acceptSendOneAndClose(Side s) throws Exception {
        VsockSocket socket = acceptOne(s);
        socket.getOutputStream().write('A');
        socket.close();
        s.control().send("CLOSED");
    }

    private static void readPendingThenEofAsClient(Side s) throws Exception {
        readPendingThenEofAndEpipe(s, connectWhenListening(s));
    }

    /** As vsock_test's multiconn: 100 connections open at once, one byte each way on every one. */
    private static final int CONNECTIONS = 100;

    private static void hundredClients(Side s) throws Exception {
        s.control().expect("LISTENING");
        VsockSocket[] sockets = new VsockSocket[CONNECTIONS];
        for (int i = 0; i < CONNECTIONS; i++) {
            sockets[i] = s.connect();
        }
        for (int i = 0; i < CONNECTIONS; i++) {
            sockets[i].getOutputStream().write(i);
        }
        for (int i = 0; i < CONNECTIONS; i++) {
            equal(sockets[i].getInputStream().read(), i, "byte echoed on connection " + i);
        }
        s.control().send("DONE");
    }

    private static void hundredAccepts(Side s) throws Exception {
        VsockServerSocket server = s.track(VsockServerSocket.open(s.provider()));
        server.bind(s.anyLocal(), CONNECTIONS);
        s.control().send("LISTENING");
        VsockSocket[] sockets = new VsockSocket[CONNECTIONS];
        for (int i = 0; i < CONNECTIONS; i++) {
            sockets[i] = s.track(server.accept());
        }
        for (int i = 0; i < CONNECTIONS; i++) {
            int b = sockets[i].getInputStream().read();
            check(b >= 0, "EOF on accepted connection " + i);
            sockets[i].getOutputStream().write(b);
        }
        s.control().expect("DONE");
    }

    // -- peek, merge

    private static final byte[] PATTERN = ascii("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-+");

    private static void peekClient(Side s) throws Exception {
        VsockSocket socket = connectWhenListening(s);
        byte[] buf = new byte[PATTERN.length];
        equal(socket.receive(buf, 0, buf.length, MessageFlags.MSG_PEEK | MessageFlags.MSG_DONTWAIT), 0,
                "MSG_PEEK|MSG_DONTWAIT on an empty socket");
        s.control().send("PEEKED_EMPTY");
        s.control().expect("SENT");
        eventually("all " + PATTERN.length + " bytes queued", () -> socket.available() == PATTERN.length);
        int half = PATTERN.length / 2;
        equal(socket.receive(buf, 0, half, MessageFlags.MSG_PEEK), half, "partial peek");
        equalBytes(buf, 0, half, java.util.Arrays.copyOf(PATTERN, half), "partial peek");
        equal(socket.receive(buf, 0, buf.length, MessageFlags.MSG_PEEK), buf.length, "full peek");
        equalBytes(buf, 0, buf.length, PATTERN, "full peek");
        byte[] read = new byte[PATTERN.length];
        equal(socket.receive(read, 0, read.length, MessageFlags.MSG_WAITALL), read.length, "read after peeks");
        equalBytes(read, 0, read.length, PATTERN, "read after peeks");
        s.control().send("DONE");
    }

    private static void peekServer(Side s) throws Exception {
        VsockSocket socket = acceptOne(s);
        s.control().expect("PEEKED_EMPTY");
        socket.getOutputStream().write(PATTERN);
        s.control().send("SENT");
        s.control().expect("DONE");
    }

    private static void helloWorld(Side s) throws Exception {
        VsockSocket socket = connectWhenListening(s);
        socket.getOutputStream().write(ascii("HELLO"));
        socket.getOutputStream().write(ascii("WORLD"));
        s.control().send("SENT");
        s.control().expect("DONE");
    }

    private static void readMerged(Side s) throws Exception {
        VsockSocket socket = acceptOne(s);
        s.control().expect("SENT");
        eventually("10 bytes queued", () -> socket.available() == 10);
        byte[] buf = new byte[64];
        int n = socket.getInputStream().read(buf);
        equal(n, 10, "one read of both writes");
        equalBytes(buf, 0, n, ascii("HELLOWORLD"), "one read of both writes");
        s.control().send("DONE");
    }

    // -- shutdown

    private static void shutWrite(Side s) throws Exception {
        VsockSocket socket = connectWhenListening(s);
        socket.getOutputStream().write(ascii("last words"));
        socket.shutdownOutput();
        errno(Errno.EPIPE, "send after shutdownOutput", () -> socket.getOutputStream().write('x'));
        check(s.peer().equals(socket.getRemoteAddress()), "peer address after SHUT_WR: " + socket.getRemoteAddress());
        s.control().send("SHUT");
        equal(socket.getInputStream().read(), '!', "the reply read after the own SHUT_WR");
        s.control().expect("EOF");
    }

    private static void expectEof(Side s) throws Exception {
        VsockSocket socket = acceptOne(s);
        s.control().expect("SHUT");
        InputStream in = socket.getInputStream();
        byte[] words = in.readNBytes(10);
        equalBytes(words, 0, words.length, ascii("last words"), "data sent before SHUT_WR");
        equal(in.read(), -1, "read after the peer's SHUT_WR");
        equal(in.read(), -1, "EOF stays EOF");
        socket.getOutputStream().write('!');
        s.control().send("EOF");
    }

    private static void shutRead(Side s) throws Exception {
        VsockSocket socket = acceptOne(s);
        socket.shutdownInput();
        equal(socket.getInputStream().read(), -1, "read after the own SHUT_RD");
        s.control().send("SHUTRD");
        s.control().expect("DONE");
    }

    private static void sendAfterPeerShutRead(Side s) throws Exception {
        VsockSocket socket = connectWhenListening(s);
        s.control().expect("SHUTRD");
        // The peer's SHUTDOWN may still be in flight; a zero-length send probes without sending data.
        eventually("send fails with EPIPE", () -> failsWith(Errno.EPIPE, () -> socket.send(new byte[0], 0, 0, 0)));
        errno(Errno.EPIPE, "send after the peer's SHUT_RD", () -> socket.getOutputStream().write('x'));
        s.control().send("DONE");
    }

    // -- SO_RCVLOWAT and credit

    private static final int LOWAT_BYTES = 128;

    private static void sendInTwoSteps(Side s) throws Exception {
        VsockSocket socket = connectWhenListening(s);
        s.control().expect("LOWAT_SET");
        socket.getOutputStream().write(new byte[LOWAT_BYTES - 1]);
        s.control().send("SENT_MOST");
        s.control().expect("MORE");
        socket.getOutputStream().write(1);
        s.control().expect("READ");
        socket.getOutputStream().write(new byte[10]);
        socket.shutdownOutput();
        s.control().expect("DONE");
    }

    private static void readWithLowat(Side s) throws Exception {
        VsockSocket socket = acceptOne(s);
        socket.setOption(VsockOptions.SO_RCVLOWAT, LOWAT_BYTES);
        s.control().send("LOWAT_SET");
        s.control().expect("SENT_MOST");
        eventually((LOWAT_BYTES - 1) + " bytes queued", () -> socket.available() == LOWAT_BYTES - 1);
        socket.setSoTimeout(300);
        byte[] buf = new byte[2 * LOWAT_BYTES];
        errno(Errno.EAGAIN, "read below SO_RCVLOWAT", () -> socket.getInputStream().read(buf));
        s.control().send("MORE");
        socket.setSoTimeout((int) Control.TIMEOUT_MILLIS);
        equal(socket.getInputStream().read(buf), LOWAT_BYTES, "read once SO_RCVLOWAT bytes are queued");
        s.control().send("READ");
        equal(socket.getInputStream().readNBytes(buf, 0, 10), 10, "10 bytes, below SO_RCVLOWAT, then EOF");
        equal(socket.getInputStream().read(buf), -1, "EOF after them");
        s.control().send("DONE");
    }

    /**
     * Half the default buffer: large enough that several packets and credit updates make it up. (A
     * low-water mark of the whole buffer is not portable: Linux's recvmsg fails with ENOMEM when the
     * target reaches the buffer size, its rcvhiwat.)
     */
    private static final int HALF_BUFFER_BYTES = (int) VsockOptions.DEFAULT_BUFFER_SIZE_BYTES / 2;

    private static void sendOneBuffer(Side s) throws Exception {
        VsockSocket socket = connectWhenListening(s);
        s.control().expect("LOWAT_SET");
        socket.getOutputStream().write(new byte[HALF_BUFFER_BYTES]);
        s.control().expect("DONE");
    }

    private static void readWholeBuffer(Side s) throws Exception {
        VsockSocket socket = acceptOne(s);
        socket.setOption(VsockOptions.SO_RCVLOWAT, HALF_BUFFER_BYTES);
        s.control().send("LOWAT_SET");
        byte[] buf = new byte[2 * HALF_BUFFER_BYTES];
        equal(socket.getInputStream().read(buf), HALF_BUFFER_BYTES, "one read with SO_RCVLOWAT = half the buffer");
        s.control().send("DONE");
    }

    private static void readWithTimeout(Side s) throws Exception {
        VsockSocket socket = acceptOne(s);
        socket.setSoTimeout(200);
        long start = System.nanoTime();
        errno(Errno.EAGAIN, "read with nothing sent", () -> socket.getInputStream().read());
        long waitedMillis = (System.nanoTime() - start) / 1_000_000;
        check(waitedMillis >= 180, "read gave up after " + waitedMillis + " ms, before SO_RCVTIMEO (200 ms)");
        s.control().send("TIMEDOUT");
        socket.setSoTimeout((int) Control.TIMEOUT_MILLIS);
        equal(socket.getInputStream().read(), 7, "the byte sent after the timeout");
        s.control().send("DONE");
    }

    private static void sendAfterTimeout(Side s) throws Exception {
        VsockSocket socket = connectWhenListening(s);
        s.control().expect("TIMEDOUT");
        socket.getOutputStream().write(7);
        s.control().expect("DONE");
    }

    private static final int MEGABYTE = 1 << 20;

    private static byte[] megabyte() {
        byte[] data = new byte[MEGABYTE];
        new java.util.Random(42).nextBytes(data);
        return data;
    }

    private static void sendMegabyte(Side s) throws Exception {
        VsockSocket socket = connectWhenListening(s);
        socket.getOutputStream().write(megabyte());
        socket.shutdownOutput();
        s.control().expect("DONE");
    }

    private static void readMegabyte(Side s) throws Exception {
        VsockSocket socket = acceptOne(s);
        byte[] got = new byte[MEGABYTE + 1];
        int total = 0;
        int n;
        while ((n = socket.getInputStream().read(got, total, Math.min(4096, got.length - total))) > 0) {
            total += n;
        }
        equal(total, MEGABYTE, "bytes received");
        equalBytes(got, 0, total, megabyte(), "received data");
        s.control().send("DONE");
    }

    /**
     * SIOCOUTQ came to vsock in Linux 6.12 (744500d81f81 "vsock: add support for SIOCOUTQ ioctl",
     * e6ab45005772 for the virtio transports); on older kernels the kernel provider answers 0, which this
     * case cannot tell from an empty queue, so there is no marker: 6.1 passes it by that fallback.
     */
    private static void outqClient(Side s) throws Exception {
        VsockSocket socket = connectWhenListening(s);
        equal(socket.unacknowledged(), 0, "SIOCOUTQ before sending");
        s.control().expect("EMPTY");
        socket.getOutputStream().write(new byte[100]);
        check(socket.unacknowledged() >= 0 && socket.unacknowledged() <= 100, "SIOCOUTQ within 0..100 after sending 100");
        s.control().send("SENT");
        s.control().expect("READ");
        eventually("SIOCOUTQ 0 after the peer read all and closed", () -> socket.unacknowledged() == 0);
    }

    private static void inqServer(Side s) throws Exception {
        VsockSocket socket = acceptOne(s);
        equal(socket.available(), 0, "SIOCINQ before anything was sent");
        s.control().send("EMPTY");
        s.control().expect("SENT");
        eventually("SIOCINQ 100", () -> socket.available() == 100);
        equal(socket.getInputStream().readNBytes(100).length, 100, "read the 100 bytes");
        equal(socket.available(), 0, "SIOCINQ after reading");
        socket.close();
        s.control().send("READ");
    }

    // -- rebind, bad ranges

    private static void rebindClient(Side s) throws Exception {
        VsockAddress local = VsockAddress.of(VsockAddress.CID_ANY, s.port() + 10_000);
        s.control().expect("LISTENING");
        VsockSocket first = s.open();
        first.bind(local);
        first.connect(s.peer());
        first.close();
        s.control().expect("CLOSED1");
        VsockSocket[] second = new VsockSocket[1];
        eventually("bind " + local + " again", () -> {
            VsockSocket socket = s.open();
            try {
                socket.bind(local);
                second[0] = socket;
                return true;
            } catch (java.net.BindException inUse) {
                socket.close();
                return false;
            }
        });
        second[0].connect(s.peer());
        equal(second[0].getLocalAddress().port(), local.port(), "local port of the second connection");
        s.control().expect("ACCEPTED2");
        s.control().send("CONNECTED2");
    }

    private static void acceptTwice(Side s) throws Exception {
        VsockServerSocket server = s.listen();
        s.control().send("LISTENING");
        try (VsockSocket one = server.accept()) {
            equal(one.getInputStream().read(), -1, "first connection ends with EOF");
        }
        s.control().send("CLOSED1");
        s.track(server.accept());
        s.control().send("ACCEPTED2");
        s.control().expect("CONNECTED2"); // closing before the client's connect returns would race it
    }

    private static void sendX(Side s) throws Exception {
        VsockSocket socket = connectWhenListening(s);
        socket.getOutputStream().write('x');
        s.control().expect("DONE");
    }

    private static void readWithBadRanges(Side s) throws Exception {
        VsockSocket socket = acceptOne(s);
        byte[] buf = new byte[8];
        for (int[] range : new int[][] {{-1, 1}, {0, 9}, {8, 1}, {4, -1}}) {
            try {
                socket.getInputStream().read(buf, range[0], range[1]);
                throw new CaseFailure("read(buf[8], " + range[0] + ", " + range[1] + ") was accepted");
            } catch (IndexOutOfBoundsException expected) {
                // as the kernel's EFAULT: refused before anything is read
            }
        }
        equal(socket.getInputStream().read(), 'x', "read after the refused ones");
        s.control().send("DONE");
    }
}
