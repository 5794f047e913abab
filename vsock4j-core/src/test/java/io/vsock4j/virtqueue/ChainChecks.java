package io.vsock4j.virtqueue;

/**
 * What must hold of any chain {@link SplitQueue#pop} returns, whatever the driver wrote: the head is in
 * the table, the chain fits the table, every buffer lies in one region (judged from the
 * {@link DriverSide}'s layout, not by asking {@link GuestMemory}), and the totals add up and fit 32 bits.
 * Plain checks, no assertion library: the fuzz test runs them millions of times. Stateless.
 */
final class ChainChecks {
    private ChainChecks() {
    }

    static void assertSound(DriverSide driver, DescriptorChain chain) {
        int size = driver.size;
        check(chain.head() >= 0 && chain.head() < size, "head in the table", chain);
        int count = chain.readableCount() + chain.writableCount();
        check(count >= 1 && count <= size, "1 to size descriptors", chain);
        long readable = 0;
        for (int i = 0; i < chain.readableCount(); i++) {
            check(driver.inOneRegion(chain.readableAddress(i), chain.readableLength(i)), "readable buffer in memory", chain);
            readable += chain.readableLength(i);
        }
        long writable = 0;
        for (int i = 0; i < chain.writableCount(); i++) {
            check(driver.inOneRegion(chain.writableAddress(i), chain.writableLength(i)), "writable buffer in memory", chain);
            writable += chain.writableLength(i);
        }
        check(readable == chain.readableBytes() && writable == chain.writableBytes(), "totals add up", chain);
        check(readable + writable <= 0xFFFF_FFFFL, "total fits 32 bits", chain);
    }

    private static void check(boolean ok, String what, DescriptorChain chain) {
        if (!ok) {
            throw new AssertionError("not " + what + ": " + chain);
        }
    }
}
