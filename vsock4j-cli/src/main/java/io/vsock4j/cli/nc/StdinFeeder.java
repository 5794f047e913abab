package io.vsock4j.cli.nc;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Sends stdin to whichever connection is current. stdin can be read by one thread only and outlives a
 * connection under {@code -k}, so one feeder thread reads it for the whole run and hands each unit to
 * the attached channel, waiting for one when none is attached. At stdin's EOF it shuts the output of
 * the current channel and of every channel attached later (the half-close).
 *
 * <p>Threads: {@link #run} on the feeder thread; attach, detach and the waits on the session thread.
 * Fields are guarded by {@link #lock}; a send runs without the lock, so a detach waits for it.
 */
final class StdinFeeder implements Runnable {
    private final Units.Source source;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // Guarded by lock.
    private NcChannel current;
    private boolean eof;
    private boolean stopped;
    private boolean sending;

    StdinFeeder(Units.Source source) {
        this.source = source;
    }

    @Override
    public void run() {
        try {
            int n;
            while ((n = source.next()) >= 0) {
                NcChannel target = awaitChannel();
                if (target == null) {
                    return;
                }
                try {
                    target.send(source.buffer(), 0, n);
                } catch (IOException peerGone) {
                    // The peer stopped receiving (EPIPE) or the connection ended; what it missed is lost,
                    // as with ncat. The session learns of it through peerReceives().
                } finally {
                    sent();
                }
            }
        } catch (IOException stdinFailed) {
            // stdin is gone: treat as EOF.
        }
        lock.lock();
        try {
            eof = true;
            if (current != null) {
                shutdownQuietly(current);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private NcChannel awaitChannel() {
        lock.lock();
        try {
            while (current == null && !stopped) {
                changed.awaitUninterruptibly();
            }
            if (stopped) {
                return null;
            }
            sending = true;
            return current;
        } finally {
            lock.unlock();
        }
    }

    private void sent() {
        lock.lock();
        try {
            sending = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Makes {@code channel} the one stdin goes to; after stdin's EOF it is shut for output at once. */
    void attach(NcChannel channel) {
        lock.lock();
        try {
            current = channel;
            if (eof) {
                shutdownQuietly(channel);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until stdin has nothing more for {@code channel}: stdin reached EOF (everything was sent and
     * the output shut), or the peer no longer receives. Polls the peer, which sends no notice of that.
     */
    void awaitFinished(NcChannel channel) throws InterruptedException {
        lock.lock();
        try {
            while (!eof && !stopped) {
                if (!sending && !channel.peerReceives()) {
                    return;
                }
                changed.await(100, TimeUnit.MILLISECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Stops sending to {@code channel}, waiting for a send in progress to end. */
    void detach(NcChannel channel) {
        lock.lock();
        try {
            while (sending && current == channel) {
                changed.awaitUninterruptibly();
            }
            if (current == channel) {
                current = null;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Ends the feeder: it sends nothing more (a thread blocked reading stdin stays until stdin ends). */
    void stop() {
        lock.lock();
        try {
            stopped = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private static void shutdownQuietly(NcChannel channel) {
        try {
            channel.shutdownOutput();
        } catch (IOException alreadyGone) {
            // The connection ended first; there is nothing left to half-close.
        }
    }
}
