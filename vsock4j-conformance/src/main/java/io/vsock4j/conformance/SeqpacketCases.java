package io.vsock4j.conformance;

import io.vsock4j.MessageFlags;
import io.vsock4j.MessageInfo;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockSeqpacketServerSocket;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.spi.Errno;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static io.vsock4j.conformance.Checks.check;
import static io.vsock4j.conformance.Checks.equal;
import static io.vsock4j.conformance.Checks.equalBytes;
import static io.vsock4j.conformance.Checks.errno;

/**
 * SEQPACKET cases of the checklist: message bounds with MSG_EOR, MSG_TRUNC, MSG_PEEK, SO_RCVTIMEO,
 * EMSGSIZE. Stateless.
 */
final class SeqpacketCases {
    /** Messages in the bounds case, the largest small one, and the largest of the one in ten that is large. */
    private static final int MESSAGES = 200;
    private static final int MAX_SMALL_MESSAGE_BYTES = 16 * 1024;
    /** Two 64 KiB packets' worth: a message the transport must carry as several packets. */
    private static final int MAX_MESSAGE_BYTES = 128 * 1024;

    private SeqpacketCases() {
    }

    static List<Case> all() {
        return List.of(
                new Case("seqpacket: connect with nothing bound is reset (ECONNRESET)",
                        c -> errno(Errno.ECONNRESET, "connect", c::connectSeqpacket), Case.Half.NOTHING),
                new Case("seqpacket: message bounds and MSG_EOR survive (" + MESSAGES + " random messages, one in ten up to 128 KiB)",
                        SeqpacketCases::sendRandomMessages, SeqpacketCases::checkRandomMessages),
                new Case("seqpacket: MSG_TRUNC: a short buffer gets the start and the real length, the rest is dropped",
                        SeqpacketCases::sendTwo32ByteMessages, SeqpacketCases::receiveTruncated),
                new Case("seqpacket: MSG_PEEK returns the next message and leaves it queued",
                        SeqpacketCases::sendFirstSecond, SeqpacketCases::peekThenRead)
                        .differs(new KernelDifference("6.6", "a75f501de88e \"virtio/vsock: support MSG_PEEK for SOCK_SEQPACKET\"",
                                "EOPNOTSUPP", "virtio's SEQPACKET receive refuses MSG_PEEK (EOPNOTSUPP)",
                                KernelDifference.Half.SERVER)),
                new Case("seqpacket: SO_RCVTIMEO: receive times out (EAGAIN) and the socket stays usable",
                        SeqpacketCases::sendAfterTimeout, SeqpacketCases::receiveWithTimeout),
                new Case("seqpacket: a message larger than the peer's buffer fails (EMSGSIZE), one that fits goes",
                        SeqpacketCases::sendOversized, SeqpacketCases::acceptAndReceiveWhatFits),
                new Case("seqpacket: a sender out of credit waits, and goes on when the peer reads a message",
                        SeqpacketCases::sendThreeHalfBuffers, SeqpacketCases::readWhenSenderWaits),
                new Case("seqpacket: a STREAM connect to a SEQPACKET listener is reset (ECONNRESET)",
                        SeqpacketCases::connectStreamToSeqpacket, SeqpacketCases::listenAndWait),
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
        int limit = random.nextInt(10) == 0 ? MAX_MESSAGE_BYTES : MAX_SMALL_MESSAGE_BYTES;
        byte[] data = new byte[1 + random.nextInt(limit)];
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
        socket.send(ascii("next"));
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
        int n = socket.receive(buf, 0, buf.length, 0, info);
        equalBytes(buf, 0, n, ascii("next"), "the message after two cut ones");
        check(!info.truncated(), "MSG_TRUNC set on a message that fit");
        s.control().send("DONE");
    }

    private static void sendFirstSecond(Side s) throws Exception {
        VsockSeqpacketSocket socket = connectWhenListening(s);
        s.control().expect("EMPTY");
        socket.send(ascii("first"), 0, 5, MessageFlags.MSG_EOR);
        socket.send(ascii("second"));
        s.control().expect("DONE");
    }

    private static void peekThenRead(Side s) throws Exception {
        VsockSeqpacketSocket socket = acceptOne(s);
        byte[] buf = new byte[64];
        equal(socket.receive(buf, 0, buf.length, MessageFlags.MSG_PEEK | MessageFlags.MSG_DONTWAIT, null), 0,
                "MSG_PEEK|MSG_DONTWAIT with nothing queued");
        s.control().send("EMPTY");
        MessageInfo info = new MessageInfo();
        int n = socket.receive(buf, 0, buf.length, MessageFlags.MSG_PEEK, info);
        equalBytes(buf, 0, n, ascii("first"), "peeked message");
        check(info.endOfRecord(), "MSG_EOR of the peeked message");
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
        equal(socket.send(new byte[] {1, 2, 3}), 3, "a message that fits, after the refused one");
        s.control().expect("DONE");
    }

    private static void acceptAndReceiveWhatFits(Side s) throws Exception {
        VsockSeqpacketSocket socket = acceptOne(s);
        s.control().send("ACCEPTED");
        byte[] buf = new byte[8];
        equal(socket.receive(buf), 3, "the message that fit");
        s.control().send("DONE");
    }

    private static final int HALF_BUFFER_BYTES = (int) VsockOptions.DEFAULT_BUFFER_SIZE_BYTES / 2;

    private static void sendThreeHalfBuffers(Side s) throws Exception {
        VsockSeqpacketSocket socket = connectWhenListening(s);
        byte[] half = new byte[HALF_BUFFER_BYTES];
        socket.send(half);
        socket.send(half);
        java.util.concurrent.atomic.AtomicReference<Object> third = new java.util.concurrent.atomic.AtomicReference<>();
        Thread sender = Thread.ofVirtual().start(() -> {
            try {
                third.set(socket.send(half));
            } catch (Exception e) {
                third.set(e);
            }
        });
        Checks.awaitBlocked(sender, "send");
        check(third.get() == null, "the third half-buffer message went without credit: " + third.get());
        s.control().send("WAITING");
        try {
            sender.join(Control.TIMEOUT_MILLIS);
        } finally {
            s.control().send("JOINED");
        }
        check(Integer.valueOf(HALF_BUFFER_BYTES).equals(third.get()), "the third message after a read: " + third.get());
        s.control().expect("DONE");
    }

    private static void readWhenSenderWaits(Side s) throws Exception {
        VsockSeqpacketSocket socket = acceptOne(s);
        s.control().expect("WAITING");
        byte[] buf = new byte[2 * HALF_BUFFER_BYTES];
        equal(socket.receive(buf), HALF_BUFFER_BYTES, "first message");
        s.control().expect("JOINED");
        equal(socket.receive(buf), HALF_BUFFER_BYTES, "second message");
        equal(socket.receive(buf), HALF_BUFFER_BYTES, "third message");
        s.control().send("DONE");
    }

    private static void listenAndWait(Side s) throws Exception {
        s.listenSeqpacket();
        s.control().send("LISTENING");
        s.control().expect("DONE");
    }

    private static void connectStreamToSeqpacket(Side s) throws Exception {
        s.control().expect("LISTENING");
        errno(Errno.ECONNRESET, "STREAM connect to a SEQPACKET listener", s::connect);
        s.control().send("DONE");
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
