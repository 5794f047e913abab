package io.vsock4j.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.LongSupplier;

/**
 * A yardstick for scripts/bench/bench-proxy.sh, not part of vsock4j: the cheapest relay two JVMs can
 * make, TCP -> {@code in} -> a ring in shared memory -> {@code out} -> TCP. It answers one question
 * before anyone redesigns the shared machine's data path: could two relaying Java processes on this
 * machine keep up with socat relaying TCP -> TCP in one process?
 *
 * <p>Nothing here is vsock. Each byte is copied twice, both times by the kernel: {@code in} reads its TCP
 * socket straight into the ring and {@code out} writes its TCP socket straight from it, as socat's one
 * process reads and writes. There are no packets, no headers, no credit and no daemon; a process that
 * has to wait sets a flag in the ring's header and blocks on a Unix socket (the "bell") until the other
 * one rings it. So what the vsock proxies spend beyond this is the price of the vsock path, and if this
 * relay cannot reach socat, no design with two relaying JVMs can.
 *
 * <p>The ring file's layout: a 4 KiB header of 64-byte slots (see the {@code SLOT_} constants), then
 * {@link #RING} bytes of data. Positions count bytes since the file was made and only grow; a position's
 * byte lives at {@code DATA + position % RING}. Only {@code in} writes {@code SLOT_PRODUCED},
 * {@code SLOT_STREAM} and {@code SLOT_END}; only {@code out} writes {@code SLOT_CONSUMED} and
 * {@code SLOT_DONE}; the two waiting flags are set by their waiter and cleared by whoever wins the
 * compare-and-set. One TCP connection at a time: {@code in} accepts the next only when {@code out} has
 * written the last one's every byte and closed its end.
 *
 * <pre>
 * SharedMemoryRelay in  RING-FILE LISTEN-PORT     (start first: it makes the ring file and the bell)
 * SharedMemoryRelay out RING-FILE HOST PORT
 * </pre>
 */
public final class SharedMemoryRelay {
    /** Bytes of data in the ring: four socat buffers. */
    static final int RING = 512 * 1024;
    /** The most one system call moves, socat's {@code -b 131072} in bench-proxy.sh. */
    static final int CHUNK = 128 * 1024;
    static final long DATA = 4096;

    static final long SLOT_PRODUCED = 0;
    static final long SLOT_CONSUMED = 64;
    static final long SLOT_OUT_WAITING = 128;
    static final long SLOT_IN_WAITING = 192;
    /** How many TCP connections {@code in} has accepted. */
    static final long SLOT_STREAM = 256;
    /** Where the current connection's bytes end, or -1 while it is open. */
    static final long SLOT_END = 320;
    /** The last connection {@code out} has written out and closed. */
    static final long SLOT_DONE = 384;

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final MemorySegment ring;
    private final SocketChannel bell;
    private final ByteBuffer bellBytes = ByteBuffer.allocate(64);

    private SharedMemoryRelay(MemorySegment ring, SocketChannel bell) {
        this.ring = ring;
        this.bell = bell;
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 3 && args[0].equals("in")) {
            in(Path.of(args[1]), Integer.parseInt(args[2]));
        } else if (args.length == 4 && args[0].equals("out")) {
            out(Path.of(args[1]), args[2], Integer.parseInt(args[3]));
        } else {
            System.err.println("usage: SharedMemoryRelay in RING-FILE LISTEN-PORT | out RING-FILE HOST PORT");
            System.exit(2);
        }
    }

    private static MemorySegment map(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return channel.map(FileChannel.MapMode.READ_WRITE, 0, DATA + RING, Arena.ofShared());
        }
    }

    private static Path bellPath(Path file) {
        return file.resolveSibling(file.getFileName() + ".bell");
    }

    private static void in(Path file, int listenPort) throws IOException {
        Files.deleteIfExists(file);
        Files.deleteIfExists(bellPath(file));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(1), DATA + RING - 1); // a file of zeros, the size of the map
        }
        MemorySegment ring = map(file);
        ring.set(ValueLayout.JAVA_LONG, SLOT_END, -1);
        try (ServerSocketChannel tcp = ServerSocketChannel.open();
             ServerSocketChannel bells = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            tcp.bind(new InetSocketAddress("127.0.0.1", listenPort));
            bells.bind(UnixDomainSocketAddress.of(bellPath(file)));
            System.err.println("SharedMemoryRelay in: listening on 127.0.0.1:" + listenPort);
            new SharedMemoryRelay(ring, bells.accept()).produce(tcp);
        }
    }

    private static void out(Path file, String host, int port) throws IOException {
        MemorySegment ring = map(file);
        SocketChannel bell = SocketChannel.open(UnixDomainSocketAddress.of(bellPath(file)));
        System.err.println("SharedMemoryRelay out: sending to " + host + ":" + port);
        new SharedMemoryRelay(ring, bell).consume(new InetSocketAddress(host, port));
    }

    /** {@code in}: each accepted connection's bytes into the ring, then its end. */
    private void produce(ServerSocketChannel tcp) throws IOException {
        long produced = 0;
        for (long stream = 1; ; stream++) {
            try (SocketChannel source = tcp.accept()) {
                LONG.setVolatile(ring, SLOT_END, -1L);
                LONG.setVolatile(ring, SLOT_STREAM, stream);
                ring(SLOT_OUT_WAITING);
                while (true) {
                    long start = produced;
                    await(() -> RING - (start - get(SLOT_CONSUMED)), SLOT_IN_WAITING);
                    long free = RING - (produced - get(SLOT_CONSUMED));
                    int offset = (int) (produced % RING);
                    int length = (int) Math.min(Math.min(free, RING - offset), CHUNK);
                    int n = source.read(ring.asSlice(DATA + offset, length).asByteBuffer());
                    if (n < 0) {
                        break;
                    }
                    produced += n;
                    LONG.setVolatile(ring, SLOT_PRODUCED, produced);
                    ring(SLOT_OUT_WAITING);
                }
            }
            LONG.setVolatile(ring, SLOT_END, produced);
            ring(SLOT_OUT_WAITING);
            long finished = stream;
            await(() -> get(SLOT_DONE) == finished ? 1 : 0, SLOT_IN_WAITING);
        }
    }

    /** {@code out}: for each connection {@code in} announces, one to the sink, fed from the ring. */
    private void consume(InetSocketAddress sink) throws IOException {
        long consumed = 0;
        for (long stream = 1; ; stream++) {
            long next = stream;
            await(() -> get(SLOT_STREAM) == next ? 1 : 0, SLOT_OUT_WAITING);
            try (SocketChannel target = SocketChannel.open(sink)) {
                while (true) {
                    long start = consumed;
                    await(() -> get(SLOT_PRODUCED) - start + (get(SLOT_END) == start ? 1 : 0), SLOT_OUT_WAITING);
                    long available = get(SLOT_PRODUCED) - consumed;
                    if (available == 0) {
                        break; // the end, at this very position
                    }
                    int offset = (int) (consumed % RING);
                    int length = (int) Math.min(Math.min(available, RING - offset), CHUNK);
                    ByteBuffer bytes = ring.asSlice(DATA + offset, length).asByteBuffer();
                    while (bytes.hasRemaining()) {
                        target.write(bytes);
                    }
                    consumed += length;
                    LONG.setVolatile(ring, SLOT_CONSUMED, consumed);
                    ring(SLOT_IN_WAITING);
                }
            }
            LONG.setVolatile(ring, SLOT_DONE, stream);
            ring(SLOT_IN_WAITING);
        }
    }

    private long get(long slot) {
        return (long) LONG.getVolatile(ring, slot);
    }

    /**
     * Returns once {@code ready} is positive. Sets this side's waiting flag, looks again, and only then
     * blocks on the bell: the other side changes the ring before it reads the flag, so either this look
     * sees the change or the other side sees the flag and rings.
     */
    private void await(LongSupplier ready, long waitingSlot) throws IOException {
        while (ready.getAsLong() <= 0) {
            LONG.setVolatile(ring, waitingSlot, 1L);
            if (ready.getAsLong() > 0) {
                LONG.compareAndSet(ring, waitingSlot, 1L, 0L); // if this fails a ring is on its way: read later
                return;
            }
            bellBytes.clear();
            if (bell.read(bellBytes) < 0) {
                throw new IOException("the other relay process has gone");
            }
        }
    }

    /** Wakes the other side if it waits on the flag at {@code waitingSlot}. */
    private void ring(long waitingSlot) throws IOException {
        if (get(waitingSlot) == 1 && LONG.compareAndSet(ring, waitingSlot, 1L, 0L)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            while (one.hasRemaining()) {
                bell.write(one);
            }
        }
    }
}
