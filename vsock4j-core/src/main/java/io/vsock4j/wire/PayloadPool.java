package io.vsock4j.wire;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Reuses full-size (64 KiB) payload arrays, so a bulk transfer does not allocate and zero a new array for
 * every packet. An array has one owner at a time, and it travels with its packet:
 * <ul>
 *   <li>taken by whoever fills a whole packet: a sending connection, a Unix link reading a packet from
 *       another process, the vhost-user device reading one from a guest;</li>
 *   <li>given back by whoever holds the packet last, once nothing references the array: the receiving
 *       connection's queue when its reader has consumed it all, a Unix link once it has written the
 *       packet to its socket, the device once it has written the packet into the guest whole.</li>
 * </ul>
 * So within one JVM the arrays go round between the engine's senders and receivers, and a process that
 * only sends to other processes (or only receives from them) reuses them just the same. Taps see a packet
 * only during their call ({@code Machine.PacketTap}), so they hold no array.
 *
 * <p>Smaller payloads are allocated at their exact size and left to the garbage collector, so a queue
 * never holds more array than bytes for them. Bounded: at most {@link #MAX_POOLED_ARRAYS} arrays wait
 * here; more are dropped. An array that never comes back (a packet dropped, a link gone down with it
 * queued) is simply collected; one given back twice would be a bug, as it would give two owners the
 * same bytes. Thread-safe and lock-free: slots taken and filled by compare-and-set, because the writer
 * takes while the reader gives, and a thread that parked on a pool lock would pay a wake-up per 64 KiB.
 */
public final class PayloadPool {
    /** 4 MiB at most held for reuse. */
    public static final int MAX_POOLED_ARRAYS = 64;

    /** Free arrays; null slots are empty. Low slots fill first, so a scan usually ends early. */
    private static final AtomicReferenceArray<byte[]> FREE = new AtomicReferenceArray<>(MAX_POOLED_ARRAYS);

    private PayloadPool() {
    }

    /** An array of exactly {@code len} bytes, or a pooled full-size one when {@code len} is a full packet. */
    public static byte[] take(int len) {
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
    public static void give(byte[] array) {
        if (array.length == VirtioVsock.MAX_PACKET_PAYLOAD_BYTES) {
            for (int i = 0; i < MAX_POOLED_ARRAYS; i++) {
                if (FREE.get(i) == null && FREE.compareAndSet(i, null, array)) {
                    return;
                }
            }
        }
    }
}
