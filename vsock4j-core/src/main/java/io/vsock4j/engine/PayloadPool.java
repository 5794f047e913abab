package io.vsock4j.engine;

import io.vsock4j.wire.VirtioVsock;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Reuses full-size (64 KiB) payload arrays, so a bulk transfer does not allocate and zero a new array for
 * every packet. An array is taken by the sending connection when it fills a whole packet, travels in the
 * packet to the receiving connection's queue, and is given back when the reader has consumed all of
 * it. Smaller payloads are allocated at their exact size and left to the garbage collector, so a queue
 * never holds more array than bytes for them.
 *
 * <p>Bounded: at most {@link #MAX_POOLED_ARRAYS} arrays wait here; more are dropped. An array that never
 * comes back (a packet dropped, a peer outside this JVM) is simply collected. Thread-safe and
 * lock-free: slots taken and filled by compare-and-set, because the writer takes while the reader gives,
 * and a thread that parked on a pool lock would pay a wake-up per 64 KiB.
 */
final class PayloadPool {
    /** 4 MiB at most held for reuse. */
    static final int MAX_POOLED_ARRAYS = 64;

    /** Free arrays; null slots are empty. Low slots fill first, so a scan usually ends early. */
    private static final AtomicReferenceArray<byte[]> FREE = new AtomicReferenceArray<>(MAX_POOLED_ARRAYS);

    private PayloadPool() {
    }

    /** An array of exactly {@code len} bytes, or a pooled full-size one when {@code len} is a full packet. */
    static byte[] take(int len) {
        if (len == VirtioVsock.MAX_PACKET_PAYLOAD_BYTES) {
            for (int i = 0; i < MAX_POOLED_ARRAYS; i++) {
                byte[] reused = FREE.get(i);
                if (reused != null && FREE.compareAndSet(i, reused, null)) {
                    return reused;
                }
            }
        }
        return new byte[len];
    }

    /** Gives back an array nobody references any more; anything but a full-size array is ignored. */
    static void give(byte[] array) {
        if (array.length == VirtioVsock.MAX_PACKET_PAYLOAD_BYTES) {
            for (int i = 0; i < MAX_POOLED_ARRAYS; i++) {
                if (FREE.get(i) == null && FREE.compareAndSet(i, null, array)) {
                    return;
                }
            }
        }
    }
}
