package io.vsock4j;

/**
 * Readiness of a {@link SocketHandle} for an event loop: which non-blocking calls would make progress
 * now, as bits of one {@code int}, and the {@link Listener} the socket calls whenever that set may have
 * changed. This is epoll's contract in Java: a loop registers a listener once, asks
 * {@link SocketHandle#readyOps()} when told, calls the non-blocking operations that are ready, and goes
 * back to sleep when nothing is.
 *
 * <h2>What each bit promises</h2>
 * A bit says the matching call does not come back empty-handed: it moves data, or it reports something
 * (an error, EOF, a finished connect). It is a snapshot: another thread's call may take it away again.
 * <ul>
 *   <li>{@link #READABLE}: a {@code receive} with {@link MessageFlags#MSG_DONTWAIT} returns data (at
 *       least SO_RCVLOWAT bytes, or a whole SEQPACKET message), -1 for EOF (the peer shut SEND, or the
 *       connection ended), or throws the error that ended the connection (ECONNRESET).</li>
 *   <li>{@link #WRITABLE}: a {@code send} with MSG_DONTWAIT sends at least one byte (the peer's credit
 *       has room) or throws (EPIPE after a shutdown, ECONNRESET).</li>
 *   <li>{@link #ACCEPTABLE}: {@link SocketHandle#tryAccept()} returns a connection, or throws why the
 *       listener can accept no more.</li>
 *   <li>{@link #CONNECTED}: a connect started with {@link SocketHandle#startConnect} is over:
 *       {@link SocketHandle#finishConnect()} returns true or throws its errno (ECONNRESET, ETIMEDOUT).</li>
 * </ul>
 * A closed socket reports {@link #READABLE} and {@link #WRITABLE}: the calls fail at once with
 * "Socket closed".
 */
public final class Readiness {
    private Readiness() {
    }

    /** A MSG_DONTWAIT receive returns data, EOF, or an error (epoll's EPOLLIN). */
    public static final int READABLE = 1;
    /** A MSG_DONTWAIT send sends something, or an error (epoll's EPOLLOUT). */
    public static final int WRITABLE = 1 << 1;
    /** A listener has a connection to take, or an error (epoll's EPOLLIN on a listening socket). */
    public static final int ACCEPTABLE = 1 << 2;
    /** A non-blocking connect is over, one way or the other (epoll's EPOLLOUT on a connecting socket). */
    public static final int CONNECTED = 1 << 3;

    /** The bits as text, for messages and tests: "READABLE|WRITABLE", or "-" for none. */
    public static String toString(int ops) {
        if (ops == 0) {
            return "-";
        }
        StringBuilder s = new StringBuilder();
        append(s, ops, READABLE, "READABLE");
        append(s, ops, WRITABLE, "WRITABLE");
        append(s, ops, ACCEPTABLE, "ACCEPTABLE");
        append(s, ops, CONNECTED, "CONNECTED");
        return s.toString();
    }

    private static void append(StringBuilder s, int ops, int bit, String name) {
        if ((ops & bit) != 0) {
            s.append(s.isEmpty() ? "" : "|").append(name);
        }
    }

    /**
     * Told that a socket's ready set may have changed; the socket says no more than that (call
     * {@link SocketHandle#readyOps()} to learn what changed, from the loop's own thread).
     *
     * <p>Threads: the socket calls this from whichever thread moved its state: a transport's delivery
     * thread, the machine's timer, another socket's thread that flushed packets, or the loop's own thread
     * during one of its calls, and possibly while holding the connection's internal lock. So an
     * implementation must only record the fact and wake its loop (set a flag, queue the socket, unpark
     * a thread): it must never block, never take a lock that a thread calling into a socket may hold, and
     * never call back into this or any other socket. It may be called spuriously, and several times for
     * one change.
     */
    @FunctionalInterface
    public interface Listener {
        void readinessChanged();
    }
}
