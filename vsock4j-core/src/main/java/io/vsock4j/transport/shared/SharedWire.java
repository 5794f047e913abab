package io.vsock4j.transport.shared;

import io.vsock4j.engine.Packet;
import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * The wire between a process of a shared machine and the machine's daemon: an 8-byte hello each way,
 * then the frames of a {@link io.vsock4j.transport.link.UnixLink} (44-byte virtio-vsock header and
 * payload). Most frames are vsock packets from CID 1 to CID 1. Control frames ride in the same stream,
 * so that they stay in order with the packets (a port's release before its next owner's first packet):
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
 * </pre>
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
        Packet p = control(OP_GONE, 0, 0);
        ByteBuffer b = ByteBuffer.allocate((to - from) * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = from; i < to; i++) {
            b.putInt(ports[i]);
        }
        p.payload = b.array();
        p.len = p.payload.length;
        return p;
    }

    static int[] goneList(Packet p) {
        ByteBuffer b = ByteBuffer.wrap(p.payload, p.payloadOffset, p.len).order(ByteOrder.LITTLE_ENDIAN);
        int[] ports = new int[p.len / Integer.BYTES];
        for (int i = 0; i < ports.length; i++) {
            ports[i] = b.getInt();
        }
        return ports;
    }

    static void writeHello(SocketChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(HELLO_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putShort((short) VERSION).putShort((short) 0).flip();
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Reads the peer's hello within {@link #HELLO_TIMEOUT}: EPROTO for a stranger, ECONNRESET at EOF. */
    static void readHello(SocketChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(HELLO_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        Thread watchdog = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(HELLO_TIMEOUT);
                ch.close(); // wakes the blocked read below
            } catch (InterruptedException | IOException done) {
                // The hello came in time, or the channel is closed anyway.
            }
        });
        try {
            while (b.hasRemaining()) {
                if (ch.read(b) < 0) {
                    throw Errno.ECONNRESET.exception("shared machine peer closed during the hello");
                }
            }
        } catch (AsynchronousCloseException e) {
            throw Errno.ETIMEDOUT.exception("no shared machine hello within " + HELLO_TIMEOUT.toMillis() + " ms");
        } finally {
            watchdog.interrupt();
        }
        b.flip();
        int magic = b.getInt();
        int version = Short.toUnsignedInt(b.getShort());
        if (magic != MAGIC || version != VERSION) {
            throw Errno.EPROTO.exception("not a vsock4j shared machine hello (magic 0x" + Integer.toHexString(magic)
                    + ", version " + version + ")");
        }
    }
}
