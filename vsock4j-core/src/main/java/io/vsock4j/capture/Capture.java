package io.vsock4j.capture;

import io.vsock4j.core.Machine;
import io.vsock4j.wire.Packet;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A packet capture of a machine (or several), written as pcap for Wireshark and tshark: what Linux shows on a
 * vsockmon device ({@code ip link add type vsockmon; tcpdump -i vsockmon0 -w FILE}), for the Java engine.
 * Every packet any transport of the machine sends or receives becomes one LINKTYPE_VSOCK record, the
 * vsockmon header, the virtio header and the payload (cut at the snapshot length).
 *
 * <p>Which packets, as the kernel taps them: the loopback (a LOCAL transport) is recorded once per
 * packet, when it is delivered, as vsock_loopback_work does; every other transport in both directions,
 * as the virtio and vhost drivers tap tx and rx separately.
 *
 * <pre>
 * try (Capture c = Capture.start(machine, Path.of("vsock.pcap"), Capture.DEFAULT_SNAPLEN_BYTES)) {
 *     ... run the sockets ...
 * }   // then: tshark -r vsock.pcap -V
 * </pre>
 *
 * <p>Threads: {@link #onPacket} is called by the machine on the sending thread (often holding a
 * connection's lock) and on each transport's delivery thread; records are appended under {@code lock}
 * to a buffered stream, so the caller waits for the disk only when the buffer fills. When the capture
 * is off the machine has no tap and pays one volatile read per packet. A write error stops the capture
 * (the sockets go on) and is thrown by {@link #close}.
 */
public final class Capture implements Machine.PacketTap, AutoCloseable {
    /** What tcpdump keeps by default: whole packets (the largest is 76 + 65536 bytes). */
    public static final int DEFAULT_SNAPLEN_BYTES = 262_144;

    private final Object lock = new Object();
    /** Guarded by lock. */
    private final PcapWriter writer;
    /** Guarded by lock. */
    private final OutputStream out;
    /** Guarded by lock. */
    private long records;
    /** Guarded by lock: the first write error; nothing is written after it. */
    private IOException failure;
    /** Guarded by lock. */
    private boolean closed;
    private final Clock clock = Clock.systemUTC();
    /** The machines whose tap this is; {@link #close} detaches them. */
    private final List<Machine> machines = new CopyOnWriteArrayList<>();

    private Capture(OutputStream out, int snaplen) throws IOException {
        this.out = out;
        this.writer = new PcapWriter(out, snaplen);
    }

    /**
     * Starts capturing every packet of {@code machine} into {@code file} (created or truncated), keeping
     * at most {@code snaplen} bytes of each record. Close the capture to stop and flush.
     */
    public static Capture start(Machine machine, Path file, int snaplen) throws IOException {
        return open(file, snaplen).attach(machine);
    }

    /**
     * A capture into {@code file} attached to no machine yet: {@link #attach} machines to it (a machine
     * may have other taps beside it).
     */
    public static Capture open(Path file, int snaplen) throws IOException {
        if (snaplen < PcapWriter.HEADERS_BYTES) {
            throw new IllegalArgumentException("snaplen " + snaplen + " is below " + PcapWriter.HEADERS_BYTES
                    + " bytes, the vsockmon and virtio headers");
        }
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024);
        try {
            return new Capture(out, snaplen);
        } catch (IOException | RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /** A capture into a stream, attached to no machine; {@link #close} closes the stream. */
    public static Capture to(OutputStream out, int snaplen) throws IOException {
        return new Capture(Objects.requireNonNull(out), snaplen);
    }

    /**
     * Makes this capture {@code machine}'s tap (replacing any other), so one file can hold several
     * machines, a whole test suite. A packet between two Java machines over a link is then recorded twice,
     * sent and received, as captures on two hosts would show it. {@link #close} detaches every machine.
     */
    public Capture attach(Machine machine) {
        machines.add(Objects.requireNonNull(machine));
        machine.addTap(this);
        return this;
    }

    @Override
    public void onPacket(boolean outbound, Transport transport, Packet packet) {
        if (outbound && transport.role() == TransportRole.LOCAL) {
            return; // recorded when the loopback delivers it, once, as vsock_loopback does
        }
        Instant now = clock.instant();
        long micros = Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000L), now.getNano() / 1_000);
        synchronized (lock) {
            if (closed || failure != null) {
                return;
            }
            try {
                writer.write(micros, packet);
                records++;
            } catch (IOException e) {
                failure = e;
            }
        }
    }

    /** Records written so far. */
    public long records() {
        synchronized (lock) {
            return records;
        }
    }

    /** Writes buffered records to the file, so a reader sees every packet so far. */
    public void flush() throws IOException {
        synchronized (lock) {
            if (!closed && failure == null) {
                out.flush();
            }
        }
    }

    /** Detaches from the machines it was attached to, flushes and closes the file. Idempotent. */
    @Override
    public void close() throws IOException {
        for (Machine m : machines) {
            m.removeTap(this);
        }
        IOException error;
        long written;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            error = failure;
            written = records;
            try {
                out.close();
            } catch (IOException e) {
                if (error == null) {
                    error = e;
                }
            }
        }
        if (error != null) {
            throw new IOException("vsock capture stopped after " + written + " records: " + error.getMessage(), error);
        }
    }
}
