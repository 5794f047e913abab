package io.vsock4j.cli.nc;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSeqpacketServerSocket;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.SocketProvider;

import java.io.Closeable;
import java.io.IOException;

/** Opening {@code vsock nc}'s sockets of either type: connect, and listen then accept. Any thread. */
final class NcEndpoints {
    private NcEndpoints() {
    }

    /** Connects within {@code timeoutMillis} (0: the socket's CONNECT_TIMEOUT, 2 s by default). */
    static NcChannel connect(SocketProvider provider, SocketType type, VsockAddress remote, int timeoutMillis)
            throws IOException {
        if (type == SocketType.SEQPACKET) {
            VsockSeqpacketSocket s = VsockSeqpacketSocket.open(provider);
            try {
                s.connect(remote, timeoutMillis);
                return NcChannel.of(s);
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        }
        VsockSocket s = VsockSocket.open(provider);
        try {
            s.connect(remote, timeoutMillis);
            return NcChannel.of(s);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** Binds {@code local} and listens. */
    static Listener listen(SocketProvider provider, SocketType type, VsockAddress local) throws IOException {
        if (type == SocketType.SEQPACKET) {
            VsockSeqpacketServerSocket s = VsockSeqpacketServerSocket.bind(provider, local);
            return new Listener() {
                @Override
                public NcChannel accept() throws IOException {
                    VsockSeqpacketSocket c = s.accept();
                    try {
                        return NcChannel.of(c);
                    } catch (IOException | RuntimeException e) {
                        c.close();
                        throw e;
                    }
                }

                @Override
                public VsockAddress local() {
                    return s.getLocalAddress();
                }

                @Override
                public void close() throws IOException {
                    s.close();
                }
            };
        }
        VsockServerSocket s = VsockServerSocket.bind(provider, local);
        return new Listener() {
            @Override
            public NcChannel accept() throws IOException {
                return NcChannel.of(s.accept());
            }

            @Override
            public VsockAddress local() {
                return s.getLocalAddress();
            }

            @Override
            public void close() throws IOException {
                s.close();
            }
        };
    }

    /** A listening socket of either type. */
    interface Listener extends Closeable {
        NcChannel accept() throws IOException;

        VsockAddress local();
    }
}
