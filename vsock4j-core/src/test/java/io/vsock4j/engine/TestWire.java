package io.vsock4j.engine;

import io.vsock4j.wire.Packet;

import io.vsock4j.SocketType;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A G2H transport held by a test: what the engine sends queues in {@link #sent}, and the test plays the
 * host by calling {@link #deliver} (on its own thread, as a transport's delivery thread would). A wire
 * nobody delivers on is a black hole: a connect through it never hears back.
 */
public final class TestWire implements Transport {
    public final BlockingQueue<Packet> sent = new LinkedBlockingQueue<>();
    private final int localCid;
    private volatile PacketReceiver receiver;

    public TestWire(int localCid) {
        this.localCid = localCid;
    }

    public void deliver(Packet p) {
        receiver.receive(this, p);
    }

    @Override
    public TransportRole role() {
        return TransportRole.G2H;
    }

    @Override
    public int localCid() {
        return localCid;
    }

    @Override
    public boolean supports(SocketType type) {
        return true;
    }

    @Override
    public void start(PacketReceiver r) {
        this.receiver = r;
    }

    @Override
    public void send(Packet packet) {
        sent.add(packet);
    }

    @Override
    public void close() {
    }
}
