package io.vsock4j.cli.nc;

import io.vsock4j.MessageInfo;
import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockOptions;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.VsockSocket;

import java.io.Closeable;
import java.io.IOException;
import java.net.SocketException;

/**
 * One connected socket of {@code vsock nc}, STREAM or SEQPACKET, with the framing its type needs
 * ({@link Units}). One thread sends while another receives; {@link #close()} from any thread wakes both.
 */
abstract sealed class NcChannel implements Closeable {
    /** Sends one unit: all of it on a stream, one message on SEQPACKET. */
    abstract void send(byte[] b, int off, int len) throws IOException;

    /** Receives the next unit into {@link #receiveBuffer()}; -1 at EOF. */
    abstract int receive() throws IOException;

    abstract byte[] receiveBuffer();

    abstract void shutdownOutput() throws IOException;

    abstract VsockAddress remote();

    abstract SocketType type();

    /** The framing for what this channel sends. */
    Units.Source source(java.io.InputStream in) {
        return type() == SocketType.SEQPACKET ? Units.lines(in) : Units.chunks(in);
    }

    /** The framing for what this channel receives. */
    Units.Sink sink(java.io.OutputStream out) {
        return type() == SocketType.SEQPACKET ? Units.lines(out) : Units.raw(out);
    }

    static NcChannel of(VsockSocket s) {
        return new Stream(s);
    }

    static NcChannel of(VsockSeqpacketSocket s) throws IOException {
        return new Seqpacket(s);
    }

    static final class Stream extends NcChannel {
        private final VsockSocket socket;
        private final byte[] buf = new byte[Units.CHUNK_BYTES];

        Stream(VsockSocket socket) {
            this.socket = socket;
        }

        @Override
        void send(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                socket.send(b, off, 0, 0);
                return;
            }
            socket.getOutputStream().write(b, off, len);
        }

        @Override
        int receive() throws IOException {
            return socket.getInputStream().read(buf, 0, buf.length);
        }

        @Override
        byte[] receiveBuffer() {
            return buf;
        }

        @Override
        void shutdownOutput() throws IOException {
            socket.shutdownOutput();
        }

        @Override
        VsockAddress remote() {
            return socket.getRemoteAddress();
        }

        @Override
        SocketType type() {
            return SocketType.STREAM;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    static final class Seqpacket extends NcChannel {
        private final VsockSeqpacketSocket socket;
        private final byte[] buf;
        private final MessageInfo info = new MessageInfo();

        Seqpacket(VsockSeqpacketSocket socket) throws IOException {
            this.socket = socket;
            // A peer may send messages up to our buffer size; receive them whole.
            long size = socket.getOption(VsockOptions.BUFFER_SIZE);
            this.buf = new byte[(int) Math.min(Math.max(size, Units.CHUNK_BYTES), Integer.MAX_VALUE - 8)];
        }

        @Override
        void send(byte[] b, int off, int len) throws IOException {
            socket.send(b, off, len, 0);
        }

        @Override
        int receive() throws IOException {
            int n = socket.receive(buf, 0, buf.length, 0, info);
            if (n >= 0 && info.truncated()) {
                throw new SocketException("a " + info.length() + "-byte message did not fit the "
                        + buf.length + "-byte buffer (MSG_TRUNC)");
            }
            return n;
        }

        @Override
        byte[] receiveBuffer() {
            return buf;
        }

        @Override
        void shutdownOutput() throws IOException {
            socket.shutdownOutput();
        }

        @Override
        VsockAddress remote() {
            return socket.getRemoteAddress();
        }

        @Override
        SocketType type() {
            return SocketType.SEQPACKET;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
