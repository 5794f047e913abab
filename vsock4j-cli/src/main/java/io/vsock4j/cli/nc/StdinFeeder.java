package io.vsock4j.cli.nc;

import java.io.IOException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Sends stdin to whichever connection is current. stdin can be read by one thread only and outlives a
 * connection under {@code -k}, so one feeder thread reads it for the whole run and hands each unit to
 * the attached channel, waiting for one when none is attached (as ncat reads stdin only while a client
 * is connected). At stdin's EOF it shuts the output of the current channel, or of the next one attached
 * if none is (ncat's half-close; ncat learns of the EOF only with a client connected). Channels attached
 * after that are not shut: ncat half-closes only the clients connected when stdin ended.
 *
 * <p>Threads: {@link #run} on the feeder thread; attach, detach and the waits on the session thread;
 * {@link #stop} from any thread. Fields are guarded by {@link #lock}; a send runs without the lock, so a
 * detach waits for it.
 */
final class StdinFeeder implements Runnable {
    /**
     * What the feeder does with stdin, from the options.
     *
     * @param discard       read stdin but send nothing (a listener's --recv-only)
     * @param shutdownAtEof half-close at stdin's EOF (not with --no-shutdown)
     * @param closeOnFailed close the channel when a send fails, waking its reader (ncat's client ends on a
     *                      write error; its listener ignores them)
     * @param onRead        called for each unit read from stdin (the idle timer)
     */
    record Rules(boolean discard, boolean shutdownAtEof, boolean closeOnFailed, Runnable onRead) {
    }

    private final Units.Source source;
    private final Rules rules;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // Guarded by lock.
    private NcChannel current;
    private boolean eof;
    private boolean shutNextAttached;
    private boolean stopped;
    private boolean sending;
    /** The send that failed on {@link #current} (EPIPE once the peer closed), or null. */
    private IOException failure;

    StdinFeeder(Units.Source source, Rules rules) {
        this.source = source;
        this.rules = rules;
    }

    @Override
    public void run() {
        try {
            int n;
            while ((n = source.next()) >= 0) {
                rules.onRead().run();
                NcChannel target = awaitChannel();
                if (target == null) {
                    return;
                }
                try {
                    if (!rules.discard()) {
                        target.send(source.buffer(), 0, n);
                    }
                    sent(target, null);
                } catch (IOException peerGone) {
                    sent(target, peerGone);
                    if (rules.closeOnFailed()) {
                        closeQuietly(target);
                    }
                }
            }
        } catch (IOException stdinFailed) {
            // stdin is gone: treat as EOF.
        }
        reachedEof();
    }

    private void reachedEof() {
        lock.lock();
        try {
            eof = true;
            if (current != null) {
                shutdown(current);
            } else {
                shutNextAttached = true;
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

    private void sent(NcChannel target, IOException failed) {
        lock.lock();
        try {
            sending = false;
            if (failed != null && current == target) {
                failure = failed;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Makes {@code channel} the one stdin goes to. */
    void attach(NcChannel channel) {
        lock.lock();
        try {
            current = channel;
            failure = null;
            if (shutNextAttached) {
                shutNextAttached = false;
                shutdown(channel);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until stdin has nothing more for {@code channel}: stdin reached EOF (and the output was
     * shut, unless --no-shutdown), the feeder was stopped, or (if {@code untilFailure}) a send to it
     * failed. A listener ignores failed sends, as ncat's does, and keeps consuming stdin.
     *
     * @return the failed send's error, or null
     */
    IOException awaitFinished(NcChannel channel, boolean untilFailure) throws InterruptedException {
        lock.lock();
        try {
            while (!eof && !stopped && !(untilFailure && current == channel && failure != null)) {
                changed.await();
            }
            return current == channel ? failure : null;
        } finally {
            lock.unlock();
        }
    }

    /** The error of a failed send to {@code channel}, or null. */
    IOException failure(NcChannel channel) {
        lock.lock();
        try {
            return current == channel ? failure : null;
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
                failure = null;
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

    private static void closeQuietly(NcChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing is all we wanted.
        }
    }

    private void shutdown(NcChannel channel) {
        if (!rules.shutdownAtEof()) {
            return;
        }
        try {
            channel.shutdownOutput();
        } catch (IOException alreadyGone) {
            // The connection ended first; there is nothing left to half-close.
        }
    }
}
