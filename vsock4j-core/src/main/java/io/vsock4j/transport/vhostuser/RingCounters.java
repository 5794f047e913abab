package io.vsock4j.transport.vhostuser;

/**
 * What a device's ring thread did in one VMM session, for benchmarks that ask where the time goes:
 * how often it woke, how many chains it took from the guest's tx ring and filled on its rx ring, and
 * how many interrupts it raised (call eventfd signals, which QEMU turns into MSIs for the guest). A
 * snapshot; subtract two to see one transfer.
 */
public record RingCounters(long wakeups, long txChains, long rxChains, long interrupts) {
    /** No session yet. */
    public static final RingCounters NONE = new RingCounters(0, 0, 0, 0);

    /** What happened between {@code earlier} and this snapshot. */
    public RingCounters minus(RingCounters earlier) {
        return new RingCounters(wakeups - earlier.wakeups, txChains - earlier.txChains, rxChains - earlier.rxChains,
                interrupts - earlier.interrupts);
    }
}
