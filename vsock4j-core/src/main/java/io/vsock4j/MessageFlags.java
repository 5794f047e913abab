package io.vsock4j;

/**
 * The send and receive flags of {@code sendmsg}/{@code recvmsg} that AF_VSOCK honours, with Linux's
 * values (include/linux/socket.h), so code ported from C reads the same.
 */
public final class MessageFlags {
    private MessageFlags() {
    }

    /** Receive: return data without removing it from the queue. */
    public static final int MSG_PEEK = 0x2;
    /** Receive (in): return a SEQPACKET message's real length even when it was cut. Out: the message was cut. */
    public static final int MSG_TRUNC = 0x20;
    /** Send and receive: do not block; a receive with nothing queued returns 0 instead of waiting. */
    public static final int MSG_DONTWAIT = 0x40;
    /** Send (SEQPACKET): this message ends a record. Receive (out): the message ended a record. */
    public static final int MSG_EOR = 0x80;
    /** Receive (STREAM): wait until the whole buffer is filled, EOF, an error or the timeout. */
    public static final int MSG_WAITALL = 0x100;

    /** SHUT_RD + 1: no more receiving (the kernel's RCV_SHUTDOWN). */
    public static final int SHUTDOWN_RECEIVE = 1;
    /** SHUT_WR + 1: no more sending (the kernel's SEND_SHUTDOWN). */
    public static final int SHUTDOWN_SEND = 2;
    /** Both directions. */
    public static final int SHUTDOWN_BOTH = 3;
}
