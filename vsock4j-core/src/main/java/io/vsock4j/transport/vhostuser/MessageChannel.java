package io.vsock4j.transport.vhostuser;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * vhost-user messages over a {@link UnixChannel}: reads one request with its descriptors, checked by
 * {@link VhostUserMessage}, and writes replies. A test frontend uses the same class to send requests
 * and read replies ({@link #send}, {@link #readReply}).
 *
 * <p>Descriptors that arrive with a message that fails a check are closed here; descriptors of a
 * message returned belong to its handler.
 *
 * <p>Thread-safety: one thread at a time (the backend's thread, or a test's).
 */
final class MessageChannel implements AutoCloseable {
    private final UnixChannel channel;

    MessageChannel(UnixChannel channel) {
        this.channel = channel;
    }

    /**
     * The next request, or null when the frontend closed the connection between messages.
     *
     * @throws VhostUserProtocolException for a malformed message, including a stream that ends inside one
     */
    VhostUserMessage readRequest() throws IOException {
        List<Integer> fds = new ArrayList<>();
        try {
            byte[] head = new byte[VhostUserMessage.HEADER_BYTES];
            int got = channel.readFully(head, 0, head.length, fds);
            if (got == 0 && fds.isEmpty()) {
                return null;
            }
            if (got < head.length) {
                throw new VhostUserProtocolException("connection closed after " + got + " of "
                        + VhostUserMessage.HEADER_BYTES + " header bytes");
            }
            VhostUserMessage.Header header = VhostUserMessage.decodeHeader(head);
            byte[] payload = new byte[header.size()];
            got = channel.readFully(payload, 0, payload.length, fds);
            if (got < payload.length) {
                throw new VhostUserProtocolException(header.request().specName() + ": connection closed after "
                        + got + " of " + payload.length + " payload bytes");
            }
            VhostUserMessage m = VhostUserMessage.decode(header, payload, fds.stream().mapToInt(Integer::intValue).toArray());
            fds.clear();
            return m;
        } finally {
            fds.forEach(UnixNative::close);
        }
    }

    /** Sends a reply to {@code request} carrying {@code payload}. */
    void reply(VhostUserRequest request, byte[] payload) throws IOException {
        channel.write(VhostUserMessage.reply(request, payload), new int[0]);
    }

    /** Sends raw message bytes with descriptors (a frontend's side). */
    void send(byte[] message, int[] fds) throws IOException {
        channel.write(message, fds);
    }

    /**
     * Reads one reply (a frontend's side): its payload, after checking that it answers {@code request}
     * and carries the reply flag.
     */
    byte[] readReply(VhostUserRequest request) throws IOException {
        List<Integer> fds = new ArrayList<>();
        try {
            byte[] head = new byte[VhostUserMessage.HEADER_BYTES];
            if (channel.readFully(head, 0, head.length, fds) < head.length) {
                throw new IOException("connection closed while waiting for the reply to " + request.specName());
            }
            ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
            int code = b.getInt(0);
            int flags = b.getInt(4);
            int size = b.getInt(8);
            if (code != request.code || flags != (VhostUserMessage.VERSION | VhostUserMessage.FLAG_REPLY)
                    || size < 0 || size > VhostUserMessage.MAX_PAYLOAD_BYTES) {
                throw new IOException("bad reply to " + request.specName() + ": code " + code + ", flags 0x"
                        + Integer.toHexString(flags) + ", size " + size);
            }
            byte[] payload = new byte[size];
            if (channel.readFully(payload, 0, size, fds) < size) {
                throw new IOException("connection closed inside the reply to " + request.specName());
            }
            return payload;
        } finally {
            fds.forEach(UnixNative::close);
        }
    }

    @Override
    public void close() {
        channel.close();
    }
}
