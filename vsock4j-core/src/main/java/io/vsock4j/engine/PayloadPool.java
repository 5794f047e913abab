package io.vsock4j.engine;

import java.util.concurrent.ArrayBlockingQueue;

/**
 * Reuses full-size (64 KiB) payload arrays, so a bulk transfer does not allocate and zero a new array for
 * every packet. An array is taken by the sending connection when it fills a whole packet, travels in the
 * packet to the receiving connection's queue, and is given back when the reader has consumed all of
 * it. Smaller payloads are allocated at their exact size and left to the garbage collector, so a queue
 * never holds more array than bytes for them.
 *
 * <p>Bounded: at most {@link #MAX_POOLED_ARRAYS} arrays wait here; more are dropped. An array that never
 * comes back (a packet dropped, a peer outside this JVM) is simply collected. Thread-safe; one short
 * lock per 64 KiB moved.
 */
final class PayloadPool {
    /** 4 MiB at most held for reuse. */
    static final int MAX_POOLED_ARRAYS = 64;

    private static final ArrayBlockingQueue<byte[]> FREE = new ArrayBlockingQueue<>(MAX_POOLED_ARRAYS);

    private PayloadPool() {
    }

    /** An array of exactly {@code len} bytes, or a pooled full-size one when {@code len} is a full packet. */
    static byte[] take(int len) {
        if (len == VirtioVsock.MAX_PACKET_PAYLOAD_BYTES) {
            byte[] reused = FREE.poll();
            if (reused != null) {
                return reused;
            }
        }
        return new byte[len];
    }

    /** Gives back an array nobody references any more; anything but a full-size array is ignored. */
    static void give(byte[] array) {
        if (array.length == VirtioVsock.MAX_PACKET_PAYLOAD_BYTES) {
            FREE.offer(array);
        }
    }
}
