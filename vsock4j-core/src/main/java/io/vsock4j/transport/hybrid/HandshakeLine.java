package io.vsock4j.transport.hybrid;

import io.vsock4j.VsockAddress;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The one line each side of a hybrid vsock's Unix socket says before the bytes of the connection: the
 * host program's {@code CONNECT <port>\n} ({@link #connectRequest()}, read by the bridge) and the VMM's
 * answer {@code OK <n>\n} ({@link #okReply()}, read by HybridClientTransport). Read as it arrives:
 * {@link #offer} takes each chunk a read returned, so a line split across reads (a client writing
 * "CONN" then "ECT 52\n") is whole once its newline comes. The rules are Firecracker's
 * (src/vmm/src/devices/virtio/vsock/unix/muxer.rs): at most {@link #MAX_LINE_BYTES} bytes up to and
 * including the newline, words split on whitespace (so a trailing CR is fine), the keyword in any case,
 * the number a decimal unsigned 32-bit one. Stricter than Firecracker in one point: words after the
 * number are refused rather than ignored. Bytes that came after the newline in the same read belong to
 * the connection and are kept in {@link #leftover()}.
 *
 * <p>One instance per Unix connection, used by that connection's thread only.
 */
final class HandshakeLine {
    /** Firecracker reads the request into a 32-byte buffer; a longer line (either way) is refused. */
    static final int MAX_LINE_BYTES = 32;

    /** What {@link #offer} found. */
    enum Status {
        /** No newline yet: read more. */
        INCOMPLETE,
        /** A well-formed line: {@link #value()} is its number. */
        COMPLETE,
        /** A line that is not {@code KEYWORD <number>}, or no newline within {@link #MAX_LINE_BYTES}. */
        INVALID
    }

    private final String keyword;
    /** CONNECT names a port, and PORT_ANY is none; OK's number is opaque, any u32 will do. */
    private final boolean portAnyRefused;

    private final byte[] line = new byte[MAX_LINE_BYTES];
    private int length;
    private Status status = Status.INCOMPLETE;
    private int value;
    private String problem = "";
    private byte[] leftover = new byte[0];

    private HandshakeLine(String keyword, boolean portAnyRefused) {
        this.keyword = keyword;
        this.portAnyRefused = portAnyRefused;
    }

    /** {@code CONNECT <port>}: what a host program asks the bridge for. */
    static HandshakeLine connectRequest() {
        return new HandshakeLine("CONNECT", true);
    }

    /** {@code OK <n>}: a VMM's yes to a CONNECT, {@code n} opaque (Firecracker: a host port; vhost-device-vsock: the guest port). */
    static HandshakeLine okReply() {
        return new HandshakeLine("OK", false);
    }

    /**
     * Reads from {@code c} until the line is {@link Status#COMPLETE} or {@link Status#INVALID}; stays
     * {@link Status#INCOMPLETE} when the peer closed first. Reads at most {@link #MAX_LINE_BYTES} at a time.
     */
    Status readFrom(ReadableByteChannel c) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(MAX_LINE_BYTES);
        while (status == Status.INCOMPLETE) {
            if (c.read(buf.clear()) < 0) {
                return status;
            }
            offer(buf.array(), 0, buf.position());
        }
        return status;
    }

    /** Takes {@code n} more bytes of the connection; once the status is final, further offers are ignored. */
    Status offer(byte[] chunk, int off, int n) {
        if (status != Status.INCOMPLETE) {
            return status;
        }
        for (int i = 0; i < n; i++) {
            byte b = chunk[off + i];
            if (length == MAX_LINE_BYTES) {
                return invalid("no newline within " + MAX_LINE_BYTES + " bytes");
            }
            line[length++] = b;
            if (b == '\n') {
                leftover = Arrays.copyOfRange(chunk, off + i + 1, off + n);
                return parse();
            }
        }
        return status;
    }

    private Status parse() {
        String text = new String(line, 0, length, StandardCharsets.US_ASCII).strip();
        String[] words = text.isEmpty() ? new String[0] : text.split("\\s+");
        if (words.length != 2 || !words[0].equalsIgnoreCase(keyword)) {
            return invalid("not '" + keyword + " <number>': '" + printable(text) + "'");
        }
        try {
            value = Integer.parseUnsignedInt(words[1]);
        } catch (NumberFormatException e) {
            return invalid("not an unsigned 32-bit number: '" + printable(words[1]) + "'");
        }
        if (portAnyRefused && value == VsockAddress.PORT_ANY) {
            return invalid("port " + Integer.toUnsignedString(value) + " is PORT_ANY, not a port");
        }
        status = Status.COMPLETE;
        return status;
    }

    private Status invalid(String why) {
        problem = why;
        status = Status.INVALID;
        return status;
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c));
        }
        return b.toString();
    }

    Status status() {
        return status;
    }

    /** The number after the keyword, once the status is {@link Status#COMPLETE}: CONNECT's guest port, OK's opaque n. */
    int value() {
        return value;
    }

    /** Why the line was refused, once the status is {@link Status#INVALID}. */
    String problem() {
        return problem;
    }

    /** The bytes after the newline that arrived with it: the first payload of the connection. */
    byte[] leftover() {
        return leftover;
    }
}
