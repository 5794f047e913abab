package io.vsock4j.transport.shared;

import io.vsock4j.wire.Packet;
import io.vsock4j.spi.Errno;
import io.vsock4j.transport.link.UnixHello;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * The wire between a process of a shared machine and the machine's daemon: an 8-byte hello each way,
 * then the frames of a {@link io.vsock4j.transport.link.UnixLink} (44-byte virtio-vsock header and
 * payload). Most frames are vsock packets from CID 1 to CID 1, or between the host (CID 2) and a guest
 * whose packets a device process carries (it SERVEs the guest's CID). Control frames ride in the same
 * stream, so that they stay in order with the packets (a port's release before its next owner's first
 * packet):
 *
 * <pre>
 *  hello (both ways):  | magic "v4js" le32 | version le16 | 0 le16 |
 *
 *  control frame: a header with type = {@link #TYPE_CONTROL} (virtio uses 1 and 2), CIDs 0, and
 *    op        what                                  dst_port   fwd_cnt      flags   payload
 *    RESERVE   process -> daemon: hold this port      port       request id   -       -
 *    ALLOC     process -> daemon: hold any free port  -          request id   -       -
 *    RELEASE   process -> daemon: port is free        port       -            -       -
 *    GRANTED   daemon -> process: you hold it         port       request id   -       -
 *    REFUSED   daemon -> process: you do not          port       request id   errno   -
 *    GONE      daemon -> process: their owner died    -          -            -       le32 ports
 *    SERVE     device -> daemon: I carry guest CID    cid        request id   -       -
 *    GUESTS    daemon -> process: the guests served   -          -            -       le32 cids
 *    RESET     device -> daemon -> every process:     cid        -            -       -
 *              that guest's connections are gone (its VMM left)
 * </pre>
 * GRANTED and REFUSED answer SERVE as they answer RESERVE. GUESTS goes to every process when it joins
 * and whenever the set changes; a guest missing from it is unreachable, and its connections reset.
 *
 * <p>Any thread: the constants are plain values and each helper builds a new packet.
 */
final class SharedWire {
    /** "v4js" read as a little-endian u32. */
    static final int MAGIC = 0x736a3476;
    static final int VERSION = 1;
    static final int HELLO_BYTES = 8;
    static final Duration HELLO_TIMEOUT = Duration.ofSeconds(5);

    static final int TYPE_CONTROL = 0xFFFF;
    static final int OP_RESERVE = 1;
    static final int OP_ALLOC = 2;
    static final int OP_RELEASE = 3;
    static final int OP_GRANTED = 4;
    static final int OP_REFUSED = 5;
    static final int OP_GONE = 6;
    static final int OP_SERVE = 7;
    static final int OP_GUESTS = 8;
    static final int OP_RESET = 9;
    /** Ports per GONE frame: 64 KiB of payload. */
    static final int MAX_PORTS_PER_GONE = 16_384;

    private SharedWire() {
    }

    static Packet control(int op, int port, int requestId) {
        Packet p = new Packet();
        p.type = TYPE_CONTROL;
        p.op = op;
        p.dstPort = port;
        p.fwdCnt = requestId;
        return p;
    }

    static Packet refused(int port, int requestId, Errno why) {
        Packet p = control(OP_REFUSED, port, requestId);
        p.flags = why.number();
        return p;
    }

    static Packet gone(int[] ports, int from, int to) {
        return withList(OP_GONE, ports, from, to);
    }

    /** The guest CIDs device processes serve, all of them (at most a few thousand). */
    static Packet guests(int[] cids) {
        return withList(OP_GUESTS, cids, 0, cids.length);
    }

    private static Packet withList(int op, int[] ports, int from, int to) {
        Packet p = control(op, 0, 0);
        ByteBuffer b = ByteBuffer.allocate((to - from) * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = from; i < to; i++) {
            b.putInt(ports[i]);
        }
        p.payload = b.array();
        p.len = p.payload.length;
        return p;
    }

    /** The le32 list of a GONE or GUESTS frame. */
    static int[] list(Packet p) {
        ByteBuffer b = ByteBuffer.wrap(p.payload, p.payloadOffset, p.len).order(ByteOrder.LITTLE_ENDIAN);
        int[] ports = new int[p.len / Integer.BYTES];
        for (int i = 0; i < ports.length; i++) {
            ports[i] = b.getInt();
        }
        return ports;
    }

    static void writeHello(SocketChannel ch) throws IOException {
        UnixHello.write(ch, UnixHello.start(HELLO_BYTES, MAGIC, VERSION).putShort((short) 0));
    }

    /** Reads the peer's hello within {@link #HELLO_TIMEOUT}: EPROTO for a stranger, ECONNRESET at EOF. */
    static void readHello(SocketChannel ch) throws IOException {
        UnixHello.read(ch, HELLO_BYTES, MAGIC, VERSION, HELLO_TIMEOUT, "shared machine");
    }
}
