package io.vsock4j.transport.vhostuser;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fake vsock-shaped device (two rings, le64 guest_cid config) that records every call the backend
 * makes, in order, for a test to take one by one. Calls arrive on the backend's thread; the test thread
 * takes them.
 */
final class RecordingDevice implements VhostUserDevice {
    static final long VIRTIO_F_VERSION_1 = 1L << 32;
    static final long GUEST_CID = 42;
    static final int QUEUES = 2;
    static final int MAX_QUEUE_SIZE = 256;

    record MemoryChanged(List<MappedRegion> regions) {
    }

    record Started(int index, VringSetup setup, EventFd kick, EventFd call, long ackedFeatures) {
    }

    record Stopped(int index) {
    }

    record Gone() {
    }

    private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    /** What queueStopped returns per ring; the test sets it while the ring runs. */
    final AtomicIntegerArray nextAvailOnStop = new AtomicIntegerArray(QUEUES);

    @Override
    public long features() {
        return VIRTIO_F_VERSION_1;
    }

    @Override
    public int queueCount() {
        return QUEUES;
    }

    @Override
    public int maxQueueSize() {
        return MAX_QUEUE_SIZE;
    }

    @Override
    public byte[] config() {
        byte[] cid = new byte[8];
        for (int i = 0; i < 8; i++) {
            cid[i] = (byte) (GUEST_CID >>> (8 * i));
        }
        return cid;
    }

    @Override
    public void memoryChanged(List<MappedRegion> regions) {
        events.add(new MemoryChanged(regions));
    }

    @Override
    public void queueStarted(int index, VringSetup setup, EventFd kick, EventFd call, long ackedFeatures) {
        nextAvailOnStop.set(index, setup.nextAvail());
        events.add(new Started(index, setup, kick, call, ackedFeatures));
    }

    @Override
    public int queueStopped(int index) {
        events.add(new Stopped(index));
        return nextAvailOnStop.get(index);
    }

    @Override
    public void frontendGone() {
        events.add(new Gone());
    }

    /** The next call, which must be a {@code type}; waits up to 10 s. */
    <T> T next(Class<T> type) throws InterruptedException {
        Object e = events.poll(TestFrontend.TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        assertThat(e).as("next device call").isInstanceOf(type);
        return type.cast(e);
    }

    /** No call is pending (after a round trip proved the backend handled everything sent before). */
    void assertQuiet() {
        assertThat(events).as("device calls").isEmpty();
    }
}
