package io.vsock4j.engine;

/**
 * Where a connection is in its life. States only move down this list, except that a failed connect
 * leaves the connection CLOSED and the socket makes a new one to retry.
 */
public enum ConnectionState {
    /** Created, nothing sent yet. */
    IDLE,
    /** We sent REQUEST and wait for RESPONSE or RST (the kernel's TCP_SYN_SENT). */
    CONNECTING,
    /** RESPONSE exchanged: RW, CREDIT_* and SHUTDOWN flow. */
    ESTABLISHED,
    /**
     * The protocol is finished (RST received, or both sides shut down and the queue drained), but the
     * socket still holds the connection: queued bytes can be read, then EOF (the kernel's SOCK_DONE).
     */
    CLOSING,
    /** Gone from the machine's tables; nothing more is sent or received. */
    CLOSED
}
