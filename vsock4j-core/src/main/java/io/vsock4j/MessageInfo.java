package io.vsock4j;

/**
 * What a receive learned besides the bytes: the message's real length and the flags recvmsg would return
 * in {@code msg_flags} ({@link MessageFlags#MSG_TRUNC}, {@link MessageFlags#MSG_EOR}).
 *
 * <p>A plain mutable holder, so a receive loop can reuse one and allocate nothing. Owned by the thread
 * that passes it in; never share one between threads receiving at the same time.
 */
public final class MessageInfo {
    private int length;
    private int flags;

    /** The length of the whole message (or, for a stream, of what was read), in bytes. */
    public int length() {
        return length;
    }

    /** The out-flags: MSG_TRUNC when the message did not fit, MSG_EOR when it ended a record. */
    public int flags() {
        return flags;
    }

    public boolean truncated() {
        return (flags & MessageFlags.MSG_TRUNC) != 0;
    }

    public boolean endOfRecord() {
        return (flags & MessageFlags.MSG_EOR) != 0;
    }

    /** Filled in by the receiving transport. */
    public void set(int length, int flags) {
        this.length = length;
        this.flags = flags;
    }

    @Override
    public String toString() {
        return "MessageInfo[length=" + length + (truncated() ? ", MSG_TRUNC" : "") + (endOfRecord() ? ", MSG_EOR" : "") + "]";
    }
}
