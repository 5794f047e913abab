package io.vsock4j.reliability;

import io.vsock4j.VsockSocket;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.zip.CRC32;

/**
 * One end of one connection of the load: it sends its stream and reads the peer's at the same time,
 * and checks what arrived against the checksum the peer sent after it.
 *
 * <p>Each direction carries, in order: the connection's number (4 bytes, from the connecting end, so the
 * accepting end knows which connection it serves and draws its own stream from the same seed), then
 * {@code bytes} bytes of payload written in random chunk sizes, then the CRC32 of that payload (8 bytes),
 * then EOF (shutdownOutput). The reader reads in random sizes too, and finds a failure when the stream
 * ends early or late or its CRC32 differs from the sender's. Both ends do this, so every byte is checked
 * by the end that received it, in whichever process that runs.
 *
 * <p>Threads: {@link #run} writes on a new virtual thread and reads on the calling one, and returns when
 * both are done. Chunks are allocated at their size for each write and read, so the heap holds only the
 * chunks in use (at most one per direction per end), not a buffer per connection.
 */
final class LoadEnd {
    /** The largest write or read: beyond one 64 KiB packet, so a write spans packets. */
    static final int MAX_CHUNK_BYTES = 96 * 1024;
    /** Half the chunks are at most this small: below and above the engine's 128-byte copy threshold. */
    private static final int SMALL_CHUNK_BYTES = 256;

    private final VsockSocket socket;
    private final int bytes;
    private final long seed;

    /**
     * @param bytes payload bytes each way
     * @param seed  the run's seed; the streams and chunk sizes of each connection and direction derive
     *              from it and the connection's number
     */
    LoadEnd(VsockSocket socket, int bytes, long seed) {
        this.socket = socket;
        this.bytes = bytes;
        this.seed = seed;
    }

    /**
     * The connecting end of connection {@code number}, closing the socket at the end: null when all
     * went well, else what went wrong.
     */
    String runConnecting(int number) {
        try (socket) {
            new DataOutputStream(socket.getOutputStream()).writeInt(number);
            return exchange(number, true);
        } catch (Throwable t) {
            return describe(number, "connecting end", t);
        }
    }

    /** The accepting end, as {@link #runConnecting}; it reads the connection's number first. */
    String runAccepting() {
        int number = -1;
        try (socket) {
            number = new DataInputStream(socket.getInputStream()).readInt();
            return exchange(number, false);
        } catch (Throwable t) {
            return describe(number, "accepting end", t);
        }
    }

    private String exchange(int number, boolean connecting) throws Exception {
        String side = connecting ? "connecting end" : "accepting end";
        // A direction's seed gives its writer's chunk sizes and bytes, and its reader's read sizes.
        long ours = streamSeed(number, connecting);
        long theirs = streamSeed(number, !connecting);
        String[] writeFailure = new String[1];
        Thread writer = Thread.ofVirtual().name("load-write-" + number + (connecting ? "c" : "a")).start(() -> {
            try {
                write(socket.getOutputStream(), ours);
                socket.shutdownOutput();
            } catch (Throwable t) {
                writeFailure[0] = describe(number, side + " writing", t);
            }
        });
        String readFailure = read(socket.getInputStream(), theirs, number, side);
        writer.join();
        if (writeFailure[0] != null) {
            return writeFailure[0] + (readFailure == null ? "" : "; and " + readFailure);
        }
        return readFailure;
    }

    /** Distinct for each connection and direction; the same in every process of the run. */
    private long streamSeed(int number, boolean fromConnecting) {
        return new SplittableRandom(seed ^ (((long) number << 1) | (fromConnecting ? 1 : 0))).nextLong();
    }

    private void write(OutputStream out, long streamSeed) throws IOException {
        Random sizes = new Random(streamSeed);
        SplittableRandom content = new SplittableRandom(streamSeed);
        CRC32 crc = new CRC32();
        int sent = 0;
        while (sent < bytes) {
            byte[] chunk = new byte[Math.min(bytes - sent, chunkSize(sizes))];
            content.nextBytes(chunk);
            out.write(chunk);
            crc.update(chunk);
            sent += chunk.length;
        }
        new DataOutputStream(out).writeLong(crc.getValue());
    }

    /** Reads the payload and the sender's CRC32, then expects EOF; null when they match. */
    private String read(InputStream in, long streamSeed, int number, String side) {
        Random sizes = new Random(~streamSeed); // not the writer's sizes: reads and writes should not line up
        CRC32 crc = new CRC32();
        long received = 0;
        try {
            while (received < bytes) {
                byte[] chunk = new byte[(int) Math.min(bytes - received, chunkSize(sizes))];
                int n = in.read(chunk);
                if (n < 0) {
                    return failure(number, side, "EOF after " + received + " of " + bytes + " bytes");
                }
                crc.update(chunk, 0, n);
                received += n;
            }
            long theirCrc = new DataInputStream(in).readLong();
            int extra = 0;
            while (in.read() >= 0) {
                extra++;
            }
            if (extra > 0) {
                return failure(number, side, extra + " bytes after the sender's checksum");
            }
            if (theirCrc != crc.getValue()) {
                return failure(number, side, String.format("CRC32 of the %d bytes received %08x, the sender's %08x",
                        bytes, crc.getValue(), theirCrc));
            }
            return null;
        } catch (EOFException e) {
            return failure(number, side, "EOF in the sender's checksum after " + received + " bytes");
        } catch (Throwable t) {
            return describe(number, side + " reading after " + received + " bytes", t);
        }
    }

    private static int chunkSize(Random sizes) {
        return 1 + sizes.nextInt(sizes.nextBoolean() ? SMALL_CHUNK_BYTES : MAX_CHUNK_BYTES);
    }

    private static String failure(int number, String side, String what) {
        return "connection " + number + ", " + side + ": " + what;
    }

    private static String describe(int number, String side, Throwable t) {
        StringWriter trace = new StringWriter();
        t.printStackTrace(new PrintWriter(trace));
        return failure(number, side, trace.toString().strip());
    }
}
