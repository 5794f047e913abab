package io.vsock4j.cli.conformance;

import io.vsock4j.MessageFlags;
import io.vsock4j.MessageInfo;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockSeqpacketServerSocket;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.spi.Errno;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static io.vsock4j.cli.conformance.Checks.check;
import static io.vsock4j.cli.conformance.Checks.equal;
import static io.vsock4j.cli.conformance.Checks.equalBytes;
import static io.vsock4j.cli.conformance.Checks.errno;

/**
 * SEQPACKET cases of the checklist: message bounds with MSG_EOR, MSG_TRUNC, MSG_PEEK, SO_RCVTIMEO,
 * EMSGSIZE. Stateless.
 */
final class SeqpacketCases {
    /** Messages in the bounds case, and the largest one's size. */
    private static final int MESSAGES = 200;
    private static final int MAX_MESSAGE_BYTES = 16 * 1024;

    private SeqpacketCases() {
    }

    static List<Case> all() {
        return List.of(
                new Case("seqpacket: connect with nothing bound is reset (ECONNRESET)",
                        c -> errno(Errno.ECONNRESET, "connect", c::connectSeqpacket), Case.Half.NOTHING),
                new Case("seqpacket: message bounds and MSG_EOR survive (" + MESSAGES + " random messages)",
                        SeqpacketCases::sendRandomMessages, SeqpacketCases::checkRandomMessages),
                new Case("seqpacket: MSG_TRUNC: a short buffer gets the start and the real length",
                        SeqpacketCases::sendTwo32ByteMessages, SeqpacketCases::receiveTruncated),
                new Case("seqpacket: MSG_PEEK returns the next message and leaves it queued",
                        SeqpacketCases::sendFirstSecond, SeqpacketCases::peekThenRead),
                new Case("seqpacket: SO_RCVTIMEO: receive times out (EAGAIN) and the socket stays usable",
                        SeqpacketCases::sendAfterTimeout, SeqpacketCases::receiveWithTimeout),
                new Case("seqpacket: a message larger than the peer's buffer fails (EMSGSIZE)",
                        SeqpacketCases::sendOversized, SeqpacketCases::acceptAndWait),
                new Case("seqpacket: close: pending message readable, then EOF, then send fails (EPIPE)",
                        SeqpacketCases::sendOneMessageAndClose, SeqpacketCases::readPendingMessageThenEof));
    }

    private static VsockSeqpacketSocket acceptOne(Side s) throws Exception {
        VsockSeqpacketServerSocket server = s.listenSeqpacket();
        s.control().send("LISTENING");
        return s.track(server.accept());
    }

    private static VsockSeqpacketSocket connectWhenListening(Side s) throws Exception {
        s.control().expect("LISTENING");
        return s.connectSeqpacket();
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    // -- bounds: both sides derive the same messages from a seed the client sends.

    private record Message(byte[] data, boolean endOfRecord) {
    }

    private static Message message(Random random) {
        byte[] data = new byte[1 + random.nextInt(MAX_MESSAGE_BYTES)];
        random.nextBytes(data);
        return new Message(data, random.nextInt(4) == 0);
    }

    private static void sendRandomMessages(Side s) throws Exception {
        VsockSeqpacketSocket socket = connectWhenListening(s);
        long seed = System.nanoTime();
        s.control().send("SEED " + seed);
        Random random = new Random(seed);
        for (int i = 0; i < MESSAGES; i++) {
            Message m = message(random);
            socket.send(m.data(), 0, m.data().length, m.endOfRecord() ? MessageFlags.MSG_EOR : 0);
        }
        s.control().expect("DONE");
    }

    private static void checkRandomMessages(Side s) throws Exception {
        VsockSeqpacketSocket socket = acceptOne(s);
        String seedLine = s.control().receive();
        check(seedLine.startsWith("SEED "), "control: expected the seed, got '" + seedLine + "'");
        Random random = new Random(Long.parseLong(seedLine.substring(5)));
        byte[] buf = new byte[MAX_MESSAGE_BYTES + 1];
        MessageInfo info = new MessageInfo();
        for (int i = 0; i < MESSAGES; i++) {
            Message m = message(random);
            int n = socket.receive(buf, 0, buf.length, 0, info);
            equal(n, m.data().length, "length of message " + i);
            equalBytes(buf, 0, n, m.data(), "contents of message " + i);
            check(info.endOfRecord() == m.endOfRecord(), "MSG_EOR of message " + i + ": expected " + m.endOfRecord());
            check(!info.truncated(), "message " + i + " flagged MSG_TRUNC");
        }
        s.control().send("DONE");
    }

    // -- truncation and peek

    private static void sendTwo32ByteMessages(Side s) throws Exception {
        VsockSeqpacketSocket socket = connectWhenListening(s);
        byte[] msg = ascii("0123456789abcdef0123456789ABCDEF");
        socket.send(msg);
        socket.send(msg);
        s.control().expect("DONE");
    }

    private static void receiveTruncated(Side s) throws Exception {
        VsockSeqpacketSocket socket = acceptOne(s);
        byte[] buf = new byte[16];
        MessageInfo info = new MessageInfo();
        equal(socket.receive(buf, 0, buf.length, 0, info), 16, "bytes copied into a 16-byte buffer");
        equalBytes(buf, 0, 16, ascii("0123456789abcdef"), "start of the message");
        check(info.truncated(), "MSG_TRUNC not set on a cut message");
        equal(info.length(), 32, "real length reported");
        equal(socket.receive(buf, 0, buf.length, MessageFlags.MSG_TRUNC, info), 32,
                "return value with MSG_TRUNC requested (the real length)");
        s.control().send("DONE");
    }

    private static void sendFirstSecond(Side s) throws Exception {
        VsockSeqpacketSocket socket = connectWhenListening(s);
        socket.send(ascii("first"));
        socket.send(ascii("second"));
        s.control().expect("DONE");
    }

    private static void peekThenRead(Side s) throws Exception {
        VsockSeqpacketSocket socket = acceptOne(s);
        byte[] buf = new byte[64];
        int n = socket.receive(buf, 0, buf.length, MessageFlags.MSG_PEEK, null);
        equalBytes(buf, 0, n, ascii("first"), "peeked message");
        n = socket.receive(buf);
        equalBytes(buf, 0, n, ascii("first"), "message read after the peek");
        n = socket.receive(buf);
        equalBytes(buf, 0, n, ascii("second"), "next message");
        s.control().send("DONE");
    }

    // -- timeout, size, close

    private static void receiveWithTimeout(Side s) throws Exception {
        VsockSeqpacketSocket socket = acceptOne(s);
        socket.setSoTimeout(1000);
        long start = System.nanoTime();
        errno(Errno.EAGAIN, "receive with nothing sent", () -> socket.receive(new byte[16]));
        long waitedMillis = (System.nanoTime() - start) / 1_000_000;
        check(waitedMillis >= 900, "receive gave up after " + waitedMillis + " ms, before SO_RCVTIMEO (1000 ms)");
        s.control().send("TIMEDOUT");
        socket.setSoTimeout((int) Control.TIMEOUT_MILLIS);
        byte[] buf = new byte[16];
        int n = socket.receive(buf);
        equalBytes(buf, 0, n, ascii("late"), "message after the timeout");
        s.control().send("DONE");
    }

    private static void sendAfterTimeout(Side s) throws Exception {
        VsockSeqpacketSocket socket = connectWhenListening(s);
        s.control().expect("TIMEDOUT");
        socket.send(ascii("late"));
        s.control().expect("DONE");
    }

    private static void sendOversized(Side s) throws Exception {
        VsockSeqpacketSocket socket = connectWhenListening(s);
        s.control().expect("ACCEPTED");
        long peerBuffer = VsockOptions.DEFAULT_BUFFER_SIZE_BYTES;
        errno(Errno.EMSGSIZE, "send of " + (peerBuffer + 1) + " bytes", () -> socket.send(new byte[(int) peerBuffer + 1]));
        s.control().send("DONE");
    }

    private static void acceptAndWait(Side s) throws Exception {
        acceptOne(s);
        s.control().send("ACCEPTED");
        s.control().expect("DONE");
    }

    private static void sendOneMessageAndClose(Side s) throws Exception {
        VsockSeqpacketSocket socket = connectWhenListening(s);
        socket.send(ascii("last"));
        socket.close();
        s.control().send("CLOSED");
    }

    private static void readPendingMessageThenEof(Side s) throws Exception {
        VsockSeqpacketSocket socket = acceptOne(s);
        s.control().expect("CLOSED");
        byte[] buf = new byte[16];
        int n = socket.receive(buf);
        equalBytes(buf, 0, n, ascii("last"), "message sent before close");
        equal(socket.receive(buf), -1, "receive after the peer's close (EOF)");
        errno(Errno.EPIPE, "send to a closed peer", () -> socket.send(ascii("x")));
    }
}
