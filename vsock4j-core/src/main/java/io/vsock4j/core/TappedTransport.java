package io.vsock4j.core;

import io.vsock4j.SocketType;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;
import io.vsock4j.wire.Packet;

/**
 * A machine's view of one of its transports: the object its connections send through and the one the
 * machine's receive path sees as "from". Every packet that passes, either way, is shown to the machine's
 * taps (capture, the demo) first, so neither the engine nor the transport knows taps exist.
 *
 * <p>Threads: as the transport it wraps. {@link #send} runs on the sending thread, the receiver methods
 * on the transport's delivery thread.
 */
final class TappedTransport implements Transport, Transport.PacketReceiver {
    /** The transport the machine was built with. */
    final Transport real;
    private final Machine machine;

    TappedTransport(Transport real, Machine machine) {
        this.real = real;
        this.machine = machine;
    }

    /** The transport a caller built, for a transport the machine hands out or one it was built with. */
    static Transport unwrap(Transport t) {
        return t instanceof TappedTransport tapped ? tapped.real : t;
    }

    @Override
    public TransportRole role() {
        return real.role();
    }

    @Override
    public int localCid() {
        return real.localCid();
    }

    @Override
    public boolean supports(SocketType type) {
        return real.supports(type);
    }

    @Override
    public boolean supports(SocketType type, int remoteCid) {
        return real.supports(type, remoteCid);
    }

    @Override
    public boolean reaches(int remoteCid) {
        return real.reaches(remoteCid);
    }

    /** Starts the real transport, delivering through this view to the machine. */
    void start() {
        real.start(this);
    }

    @Override
    public void start(PacketReceiver receiver) {
        throw new UnsupportedOperationException("a machine starts its transports itself");
    }

    @Override
    public void send(Packet packet) {
        machine.tap(true, real, packet);
        real.send(packet);
    }

    @Override
    public void flush() {
        real.flush();
    }

    @Override
    public void close() {
        real.close();
    }

    @Override
    public void receive(Transport from, Packet packet) {
        machine.tap(false, real, packet);
        machine.receive(this, packet);
    }

    @Override
    public boolean ownsCid(int cid) {
        return cid == machine.localCid();
    }

    @Override
    public void transportReset(Transport from, int remoteCid) {
        machine.transportReset(this, remoteCid);
    }

    @Override
    public void portReset(Transport from, int remoteCid, int remotePort) {
        machine.portReset(this, remoteCid, remotePort);
    }

    @Override
    public void portSpaceLost(Transport from, String reason) {
        machine.portSpaceLost(reason);
    }

    @Override
    public String toString() {
        return real.toString();
    }
}
