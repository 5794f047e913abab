package io.vsock4j.transport.vhostuser;

import java.io.IOException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.file.Path;

import static java.lang.System.Logger.Level.ERROR;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * A vhost-user backend (the spec's "back-end", formerly "slave"): serves one {@link VhostUserDevice} to a
 * frontend such as QEMU ({@code -chardev socket,path=PATH -device vhost-user-vsock-pci,chardev=...})
 * over a Unix socket it listens on. vhost-user moves a virtio device's data plane out of QEMU: QEMU
 * sends, over that socket, the guest's memory (as file descriptors to mmap), each virtqueue's size and
 * addresses, and an eventfd pair per queue, and the backend then reads and writes the queues in guest
 * memory directly (docs/interop/vhost-user.rst). This class owns the socket and the connection's life;
 * {@link FrontendSession} handles the requests.
 *
 * <p>One frontend at a time: the backend accepts a connection, serves it until the frontend closes it,
 * then accepts the next, so QEMU can reconnect. When a connection ends, for whatever reason, the backend
 * stops the running rings, tells the device ({@link VhostUserDevice#frontendGone}), unmaps guest memory
 * and closes every descriptor the frontend sent. A malformed message or a protocol violation ends only
 * that connection, with a warning that says what was wrong; the backend keeps listening.
 *
 * <p>Threads: the backend's own platform thread ("vhost-user PATH") accepts, reads every request, and
 * makes every device call; the device may run its rings on threads of its own. {@link #close} may be
 * called from any thread: it wakes the backend's thread through an eventfd, waits for it to release the
 * connection, and removes the socket file.
 */
public final class VhostUserBackend implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(VhostUserBackend.class.getName());

    private final UnixListener listener;
    private final VhostUserDevice device;
    /** Signalled once by {@link #close}; every wait of the backend's thread polls it. */
    private final EventFd wake;
    private final Thread thread;
    private volatile boolean closing;
    /** {@link #close} ran on the backend's thread (from a device callback), which then closes {@link #wake} itself. */
    private boolean closedOnOwnThread;

    private VhostUserBackend(UnixListener listener, VhostUserDevice device, EventFd wake) {
        this.listener = listener;
        this.device = device;
        this.wake = wake;
        this.thread = Thread.ofPlatform().name("vhost-user " + listener.path()).daemon().unstarted(this::run);
    }

    /**
     * Listens at {@code socketPath} and starts serving {@code device}. A stale socket file there (no
     * process accepts on it) is replaced; a live one, or a file that is not a socket, is refused.
     */
    public static VhostUserBackend start(Path socketPath, VhostUserDevice device) throws IOException {
        EventFd wake = EventFd.create();
        UnixListener listener;
        try {
            listener = UnixListener.bind(socketPath);
        } catch (IOException | RuntimeException e) {
            wake.close();
            throw e;
        }
        VhostUserBackend backend = new VhostUserBackend(listener, device, wake);
        LOG.log(INFO, "vhost-user backend listening on {0}", socketPath);
        backend.thread.start();
        return backend;
    }

    public Path socketPath() {
        return listener.path();
    }

    private void run() {
        try {
            while (!closing) {
                int fd = listener.accept(wake);
                if (fd < 0) {
                    return;
                }
                serve(fd);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(ERROR, "vhost-user backend on " + listener.path() + " stopped accepting", e);
        } finally {
            try {
                listener.close();
            } catch (IOException e) {
                LOG.log(WARNING, "removing " + listener.path() + " failed", e);
            }
            if (closedOnOwnThread) {
                wake.close();
            }
        }
    }

    /** Serves one frontend to the end of its connection and releases what it set up. */
    private void serve(int fd) {
        LOG.log(INFO, "frontend connected on {0}", listener.path());
        try (MessageChannel channel = new MessageChannel(new UnixChannel(fd, wake, UnixChannel.NO_TIMEOUT))) {
            FrontendSession session = new FrontendSession(device, channel);
            try {
                session.serve();
                LOG.log(INFO, "frontend disconnected from {0}", listener.path());
            } catch (VhostUserProtocolException e) {
                LOG.log(WARNING, "closing the frontend connection on {0}: {1}", listener.path(), e.getMessage());
            } catch (AsynchronousCloseException e) {
                LOG.log(INFO, "backend closing; dropping the frontend on {0}", listener.path());
            } catch (IOException e) {
                LOG.log(WARNING, "closing the frontend connection on " + listener.path() + " after an I/O error", e);
            } catch (RuntimeException e) {
                LOG.log(ERROR, "closing the frontend connection on " + listener.path() + ": the device failed", e);
            } finally {
                session.release();
            }
        }
    }

    /**
     * Stops serving: ends the current connection (releasing it as a disconnect does), stops listening
     * and removes the socket file. Waits for the backend's thread unless called on it (from a device
     * callback), in which case the thread finishes after the callback returns. Idempotent.
     */
    @Override
    public void close() throws IOException {
        if (Thread.currentThread() == thread) {
            closing = true;
            closedOnOwnThread = true;
            wake.signal();
            return;
        }
        synchronized (this) {
            if (closing && !thread.isAlive()) {
                return;
            }
            closing = true;
            wake.signal();
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            wake.close();
        }
    }
}
