package io.vsock4j.transport.kernel;

import io.vsock4j.VsockAddress;
import io.vsock4j.internal.ffm.NativeErrors;
import io.vsock4j.spi.Errno;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One connect(2) on a non-blocking kernel socket, with Java owning the deadline.
 *
 * <p>Why it is not just "connect, wait for EPOLLOUT, read SO_ERROR": Linux's vsock leaves a socket whose
 * non-blocking connect was reset in SS_CONNECTING (af_vsock.c and virtio_transport_recv_connecting), so
 * the next connect on it would report EALREADY forever; and the kernel's own connect timer, once it
 * fires, leaves the socket ready for a retry that would send a new REQUEST. So:
 * <ol>
 *   <li>the kernel's timer is armed {@code slack} past our deadline (SO_VM_SOCKETS_CONNECT_TIMEOUT is
 *       set for the connect call and restored right after), so it never decides;</li>
 *   <li>when the socket turns writable or errored, a connect(2) in blocking mode collects the result
 *       without waiting (EISCONN: established; else the error, which also returns the socket to
 *       SS_UNCONNECTED), and SO_ERROR is read to clear the stale sk_err;</li>
 *   <li>at our deadline, a blocking connect(2) with a one-jiffy timeout ends the attempt the way a
 *       blocking connect would (ETIMEDOUT, request cancelled), holding the thread at most one jiffy.</li>
 * </ol>
 * Runs on the connecting thread under the socket's write lock: the blocking connect's {@link #run}, or a
 * non-blocking connect's {@link #start} and then its {@link #poll}s, from
 * {@link KernelSocket#startConnect} and {@link KernelSocket#finishConnect}.
 */
final class KernelConnect {
    private final KernelSocket socket;
    private final KernelFd fd;
    private final MemorySegment scratch;
    private final VsockAddress remote;

    KernelConnect(KernelSocket socket, KernelFd fd, MemorySegment scratch, VsockAddress remote) {
        this.socket = socket;
        this.fd = fd;
        this.scratch = scratch;
        this.remote = remote;
    }

    /** Set by {@link #start}: the socket's own CONNECT_TIMEOUT (restored after each call), ours, and its deadline. */
    private Duration userTimeout;
    private long timeoutNanos;
    private long deadline;

    /** The blocking connect: {@link #start}, then wait for the descriptor until {@link #poll} says it is over. */
    void run(long timeoutNanos, long slackNanos) throws IOException {
        if (start(timeoutNanos, slackNanos)) {
            return;
        }
        while (!poll()) {
            fd.await(Poller.WRITE, deadline, scratch);
        }
    }

    /**
     * Sends the REQUEST (connect(2) on the non-blocking descriptor). Returns true when connected at once,
     * false when the answer is awaited (EINPROGRESS: then {@link #poll} until it returns true); throws
     * what connect(2) refused at once.
     */
    boolean start(long timeoutNanos, long slackNanos) throws IOException {
        this.userTimeout = socket.connectTimeoutOption();
        this.timeoutNanos = timeoutNanos;
        this.deadline = Deadlines.after(timeoutNanos);
        int r;
        fd.begin();
        try {
            KernelOptions.setConnectTimeoutNanos(fd.fd, timeoutNanos + slackNanos);
            r = connectCall();
            KernelOptions.setConnectTimeoutNanos(fd.fd, userTimeout.toNanos());
        } finally {
            fd.end();
        }
        if (r == 0) {
            return true;
        }
        if (r != -Errno.EINPROGRESS.number()) {
            throw NativeErrors.connectException(-r, "connect to " + remote);
        }
        return false;
    }

    /**
     * Without waiting: false while the answer is awaited; true once connected; the connect's failure
     * (ECONNRESET, ETIMEDOUT at our deadline) as an exception. At the deadline the attempt is ended with a
     * blocking connect(2) of one jiffy (see the class comment), the only wait in here.
     */
    boolean poll() throws IOException {
        int revents;
        fd.begin();
        try {
            revents = Native.pollNow(scratch, scratch.asSlice(32, 8), fd.fd, LinuxAbi.POLLOUT);
        } finally {
            fd.end();
        }
        if (revents > 0 && (revents & (LinuxAbi.POLLOUT | LinuxAbi.POLLERR | LinuxAbi.POLLHUP)) != 0) {
            finish(userTimeout, timeoutNanos, false);
            return true;
        }
        if (Deadlines.passed(deadline)) {
            finish(userTimeout, timeoutNanos, true);
            return true;
        }
        return false;
    }

    /** The deadline as {@link Deadlines} keeps it. */
    long deadline() {
        return deadline;
    }

    /** Collects the outcome with a connect(2) in blocking mode that does not wait (see the class comment). */
    private void finish(Duration userTimeout, long timeoutNanos, boolean timedOut) throws IOException {
        int r;
        fd.begin();
        try {
            if (timedOut) {
                KernelOptions.setConnectTimeoutNanos(fd.fd, 1);
            }
            setNonBlocking(fd, false);
            try {
                r = connectCall();
            } finally {
                setNonBlocking(fd, true);
                if (timedOut) {
                    KernelOptions.setConnectTimeoutNanos(fd.fd, userTimeout.toNanos());
                }
            }
            if (r != 0 && r != -Errno.EISCONN.number()) {
                clearSoError();
            }
        } finally {
            fd.end();
        }
        if (r == 0 || r == -Errno.EISCONN.number()) {
            return;
        }
        String context = "connect to " + remote + (timedOut ? " after " + timeoutNanos / 1_000_000 + " ms" : "");
        throw NativeErrors.connectException(-r, context);
    }

    private int connectCall() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = a.allocate(LinuxAbi.SOCKADDR_VM_BYTES, 4);
            SockaddrVm.write(addr, remote);
            return Native.connect(scratch, fd.fd, addr);
        }
    }

    private void clearSoError() {
        try (Arena a = Arena.ofConfined()) {
            Native.getsockopt(Native.errnoCell(a), fd.fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_ERROR,
                    a.allocate(JAVA_INT), a.allocate(JAVA_INT));
        }
    }

    /** Sets or clears O_NONBLOCK on the descriptor; the caller holds it open. */
    static void setNonBlocking(KernelFd fd, boolean on) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = Native.errnoCell(a);
            int flags = Native.fcntl(e, fd.fd, LinuxAbi.F_GETFL, 0);
            if (flags >= 0) {
                flags = Native.fcntl(e, fd.fd, LinuxAbi.F_SETFL,
                        on ? flags | LinuxAbi.O_NONBLOCK : flags & ~LinuxAbi.O_NONBLOCK);
            }
            if (flags < 0) {
                throw NativeErrors.exception(-flags, "fcntl O_NONBLOCK on " + fd);
            }
        }
    }
}
