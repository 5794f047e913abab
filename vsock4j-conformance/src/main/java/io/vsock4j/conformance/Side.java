package io.vsock4j.conformance;

import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSeqpacketServerSocket;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.SocketProvider;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One side of a case: the provider, where the peer is, the case's port, the control channel, and the
 * sockets opened so far (closed when the case ends, pass or fail). The server side listens on
 * {@code any:port}; the client connects to {@code peerCid:port}.
 *
 * <p>Used by the side's thread; {@link #closeAll()} may come from the runner's thread to wake it.
 */
public final class Side {
    private final SocketProvider provider;
    private final int peerCid;
    private final int port;
    private final Control control;
    /** Guarded by itself. */
    private final List<Closeable> opened = new ArrayList<>();

    public Side(SocketProvider provider, int peerCid, int port, Control control) {
        this.provider = provider;
        this.peerCid = peerCid;
        this.port = port;
        this.control = control;
    }

    public SocketProvider provider() {
        return provider;
    }

    public Control control() {
        return control;
    }

    /** The case's port. */
    public int port() {
        return port;
    }

    /** Where the client connects: the peer's CID and the case's port. */
    public VsockAddress peer() {
        return VsockAddress.of(peerCid, port);
    }

    /** What the server binds: any CID, the case's port. */
    public VsockAddress anyLocal() {
        return VsockAddress.of(VsockAddress.CID_ANY, port);
    }

    public VsockServerSocket listen() throws IOException {
        return track(VsockServerSocket.bind(provider, anyLocal()));
    }

    public VsockSeqpacketServerSocket listenSeqpacket() throws IOException {
        return track(VsockSeqpacketServerSocket.bind(provider, anyLocal()));
    }

    public VsockSocket open() throws IOException {
        return track(VsockSocket.open(provider));
    }

    public VsockSocket connect() throws IOException {
        return track(VsockSocket.connect(provider, peer()));
    }

    public VsockSeqpacketSocket connectSeqpacket() throws IOException {
        return track(VsockSeqpacketSocket.connect(provider, peer()));
    }

    public <T extends Closeable> T track(T closeable) {
        synchronized (opened) {
            opened.add(closeable);
        }
        return closeable;
    }

    /** Closes every socket of this side, last opened first. Any thread. */
    public void closeAll() {
        List<Closeable> all;
        synchronized (opened) {
            all = new ArrayList<>(opened);
            opened.clear();
        }
        for (Closeable c : all.reversed()) {
            try {
                c.close();
            } catch (IOException ignored) {
                // Closing is best effort here; the case's verdict is already taken.
            }
        }
    }
}
