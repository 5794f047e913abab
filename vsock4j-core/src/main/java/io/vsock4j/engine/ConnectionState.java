package io.vsock4j.engine;

import io.vsock4j.wire.VirtioVsock;

/**
 * Where a connection is in its life: a {@link Phase} and the SHUTDOWN flags each side has sent, in one
 * immutable value, so the whole lifecycle is one field and moves only forward.
 *
 * <p>The flags are the kernel's: RCV (1) and SEND (2), as in SHUTDOWN packets and {@code sk_shutdown}.
 * {@code local} is what this side has announced, {@code peer} what the peer has; an RST, or the end of
 * the protocol, counts as the peer shutting both ways. Every combination exists once (see
 * {@link #of}), so a transition allocates nothing.
 *
 * <pre>
 *   IDLE --connect--> CONNECTING --RESPONSE--> ESTABLISHED --RST, or both shut and drained--> CLOSING --> CLOSED
 *     \--accept (REQUEST answered)----------------^          (flags only grow while ESTABLISHED)
 *   CONNECTING --RST, timeout--> CLOSED
 * </pre>
 */
public final class ConnectionState {
    /** The coarse state; each value's comment says what the kernel calls it. */
    public enum Phase {
        /** Created, nothing sent yet. */
        IDLE,
        /** We sent REQUEST and wait for RESPONSE or RST (the kernel's TCP_SYN_SENT). */
        CONNECTING,
        /** RESPONSE exchanged: RW, CREDIT_* and SHUTDOWN flow (TCP_ESTABLISHED). */
        ESTABLISHED,
        /**
         * The protocol is over (RST, or both sides shut down and the queue drained) but the socket still
         * holds the connection: queued bytes can be read, then EOF (the kernel's SOCK_DONE).
         */
        CLOSING,
        /** Gone from the machine's tables; nothing more is sent or received. */
        CLOSED
    }

    private static final int FLAG_VALUES = VirtioVsock.SHUTDOWN_BOTH + 1;
    private static final ConnectionState[] ALL = new ConnectionState[Phase.values().length * FLAG_VALUES * FLAG_VALUES];

    static {
        for (Phase phase : Phase.values()) {
            for (int local = 0; local < FLAG_VALUES; local++) {
                for (int peer = 0; peer < FLAG_VALUES; peer++) {
                    ALL[index(phase, local, peer)] = new ConnectionState(phase, local, peer);
                }
            }
        }
    }

    public static final ConnectionState IDLE = of(Phase.IDLE, 0, 0);

    private final Phase phase;
    private final int localShutdown;
    private final int peerShutdown;

    private ConnectionState(Phase phase, int localShutdown, int peerShutdown) {
        this.phase = phase;
        this.localShutdown = localShutdown;
        this.peerShutdown = peerShutdown;
    }

    /** The one instance for this combination; flags outside RCV|SEND are ignored. */
    public static ConnectionState of(Phase phase, int localShutdown, int peerShutdown) {
        return ALL[index(phase, localShutdown & VirtioVsock.SHUTDOWN_BOTH, peerShutdown & VirtioVsock.SHUTDOWN_BOTH)];
    }

    private static int index(Phase phase, int local, int peer) {
        return (phase.ordinal() * FLAG_VALUES + local) * FLAG_VALUES + peer;
    }

    public Phase phase() {
        return phase;
    }

    /** SHUTDOWN flags this side has sent. */
    public int localShutdown() {
        return localShutdown;
    }

    /** SHUTDOWN flags the peer has sent; both after an RST or the end of the protocol. */
    public int peerShutdown() {
        return peerShutdown;
    }

    // Transitions. Each returns the next state; none moves backwards.

    /** The same flags in a later phase. */
    ConnectionState to(Phase next) {
        if (next.ordinal() < phase.ordinal()) {
            throw new IllegalStateException(this + " cannot go back to " + next);
        }
        return of(next, localShutdown, peerShutdown);
    }

    /** This side announced {@code flags} as well. */
    ConnectionState withLocalShutdown(int flags) {
        return of(phase, localShutdown | flags, peerShutdown);
    }

    /** The peer announced {@code flags} as well. */
    ConnectionState withPeerShutdown(int flags) {
        return of(phase, localShutdown, peerShutdown | flags);
    }

    /** The kernel's virtio_transport_do_close: the protocol is over, the peer counts as shut both ways. */
    ConnectionState done() {
        Phase next = switch (phase) {
            case IDLE, CONNECTING -> Phase.CLOSED; // never connected: nothing to drain
            case ESTABLISHED -> Phase.CLOSING;
            case CLOSING, CLOSED -> phase;
        };
        return of(next, localShutdown, VirtioVsock.SHUTDOWN_BOTH);
    }

    // Questions the engine asks.

    /** The protocol is over: CLOSING or CLOSED. */
    public boolean isDone() {
        return phase.ordinal() >= Phase.CLOSING.ordinal();
    }

    /** Whether a socket in this state counts as connected (getpeername works, data may be read). */
    public boolean isConnected() {
        return phase == Phase.ESTABLISHED || phase == Phase.CLOSING;
    }

    /** Established, and neither our SEND nor the peer's RCV is shut. */
    public boolean canSend() {
        return phase == Phase.ESTABLISHED
                && (localShutdown & VirtioVsock.SHUTDOWN_SEND) == 0 && (peerShutdown & VirtioVsock.SHUTDOWN_RCV) == 0;
    }

    /** No more data can arrive: the peer shut SEND, or the protocol is over. */
    public boolean noMoreData() {
        return isDone() || (peerShutdown & VirtioVsock.SHUTDOWN_SEND) != 0;
    }

    @Override
    public String toString() {
        if (localShutdown == 0 && peerShutdown == 0) {
            return phase.name();
        }
        return phase + "(shut: local " + flagNames(localShutdown) + ", peer " + flagNames(peerShutdown) + ")";
    }

    private static String flagNames(int flags) {
        return switch (flags) {
            case 0 -> "-";
            case VirtioVsock.SHUTDOWN_RCV -> "RCV";
            case VirtioVsock.SHUTDOWN_SEND -> "SEND";
            default -> "RCV|SEND";
        };
    }
}
