package io.vsock4j;

import java.net.SocketAddress;
import java.util.Locale;

/**
 * A vsock endpoint: a context ID (CID) naming a machine and a port on it, plus the address flags of
 * {@code struct sockaddr_vm}. Immutable and thread-safe.
 *
 * <p>CIDs and ports are unsigned 32-bit values held in an {@code int}; they are compared and printed
 * unsigned, so {@link #CID_ANY} prints as {@code any} and never as {@code -1}. Flags are an unsigned byte.
 *
 * <p>The text form is {@code CID:PORT}. On input the CID may also be one of the well-known names
 * {@code any}, {@code hypervisor}, {@code local} and {@code host}, and the port may be {@code any}:
 * {@code "1:1234"}, {@code "local:1234"} and {@code "host:22"} all parse. {@link #toString()} prints numbers
 * ({@code "1:1234"}); {@link #describe()} adds the well-known name for people.
 */
public final class VsockAddress extends SocketAddress {
    private static final long serialVersionUID = 1L;
    /** The largest CID or port, 2^32 - 1, as parsed. */
    private static final long MAX_U32 = 0xFFFF_FFFFL;

    /** VMADDR_CID_ANY (include/uapi/linux/vm_sockets.h): bind to any CID this machine owns. */
    public static final int CID_ANY = 0xFFFFFFFF;
    /** VMADDR_CID_HYPERVISOR: reserved for services of the hypervisor itself. */
    public static final int CID_HYPERVISOR = 0;
    /** VMADDR_CID_LOCAL: the loopback transport, this machine talking to itself (Linux 5.6+). */
    public static final int CID_LOCAL = 1;
    /** VMADDR_CID_HOST: the host, as seen from a guest. */
    public static final int CID_HOST = 2;
    /** The first CID a guest may be given. */
    public static final int CID_FIRST_GUEST = 3;
    /** VMADDR_PORT_ANY: let bind pick a free port above {@link #LAST_RESERVED_PORT}. */
    public static final int PORT_ANY = 0xFFFFFFFF;
    /** LAST_RESERVED_PORT (net/vmw_vsock/af_vsock.c): ports up to this one need CAP_NET_BIND_SERVICE. */
    public static final int LAST_RESERVED_PORT = 1023;
    /** VMADDR_FLAG_TO_HOST: route to the host even though the CID is above 2 (sibling VMs). */
    public static final int FLAG_TO_HOST = 0x01;

    private final int cid;
    private final int port;
    private final int flags;

    private VsockAddress(int cid, int port, int flags) {
        if ((flags & ~0xFF) != 0) {
            throw new IllegalArgumentException("vsock address flags are one byte, got 0x" + Integer.toHexString(flags));
        }
        this.cid = cid;
        this.port = port;
        this.flags = flags;
    }

    /** The address {@code cid:port} with no flags. */
    public static VsockAddress of(int cid, int port) {
        return new VsockAddress(cid, port, 0);
    }

    /** The address {@code cid:port} with the given flags (for example {@link #FLAG_TO_HOST}). */
    public static VsockAddress of(int cid, int port, int flags) {
        return new VsockAddress(cid, port, flags);
    }

    /** {@code CID:PORT} from unsigned values held in longs, checked to fit 32 bits. */
    public static VsockAddress ofUnsigned(long cid, long port) {
        return new VsockAddress(checkU32("CID", cid), checkU32("port", port), 0);
    }

    /** CID_ANY:PORT_ANY, what an unbound socket binds to on connect. */
    public static VsockAddress any() {
        return new VsockAddress(CID_ANY, PORT_ANY, 0);
    }

    /** {@code CID_LOCAL:port}. */
    public static VsockAddress local(int port) {
        return new VsockAddress(CID_LOCAL, port, 0);
    }

    /**
     * Parses {@code CID:PORT}, where CID is a number or a well-known name and PORT a number or {@code any}.
     *
     * @throws IllegalArgumentException naming the part that is wrong
     */
    public static VsockAddress parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("not a vsock address (want CID:PORT, e.g. 1:1234): '" + text + "'");
        }
        return new VsockAddress(parseCid(text.substring(0, colon)), parsePort(text.substring(colon + 1)), 0);
    }

    /**
     * Parses a CID: a decimal unsigned 32-bit number (0..4294967295; surrounding blanks are ignored) or
     * one of any, hypervisor, local, host.
     *
     * @throws IllegalArgumentException naming the input when it is not one of those; a negative number
     *                                  (such as junixsocket's {@code -1}) is refused with a pointer to
     *                                  {@code any} and {@code local}
     */
    public static int parseCid(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "any" -> CID_ANY;
            case "hypervisor" -> CID_HYPERVISOR;
            case "local", "loopback" -> CID_LOCAL;
            case "host" -> CID_HOST;
            default -> parseU32("CID", text, "write 'any' for VMADDR_CID_ANY or 'local' for this machine");
        };
    }

    /**
     * Parses a port: a decimal unsigned 32-bit number (0..4294967295; surrounding blanks are ignored) or
     * {@code any}.
     *
     * @throws IllegalArgumentException naming the input when it is neither; a negative number is
     *                                  refused with a pointer to {@code any}
     */
    public static int parsePort(String text) {
        if (text.trim().equalsIgnoreCase("any")) {
            return PORT_ANY;
        }
        return parseU32("port", text, "write 'any' for VMADDR_PORT_ANY");
    }

    /** Decimal digits only: no sign, no hex, at most 4294967295. */
    private static int parseU32(String what, String text, String wildcardHint) {
        String t = text.trim();
        if (t.startsWith("-") && t.length() > 1 && t.substring(1).chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException(what + " '" + text + "' is negative; " + what
                    + "s are unsigned 32-bit (0.." + MAX_U32 + "): " + wildcardHint);
        }
        if (t.isEmpty() || !t.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException(what + " is not a number: '" + text + "'");
        }
        String digits = t.replaceFirst("^0+(?=.)", "");
        if (digits.length() > 10 || Long.parseLong(digits) > MAX_U32) {
            throw new IllegalArgumentException(what + " out of range 0.." + MAX_U32 + ": '" + text + "'");
        }
        return (int) Long.parseLong(digits);
    }

    private static int checkU32(String what, long value) {
        if (value < 0 || value > MAX_U32) {
            throw new IllegalArgumentException(what + " out of range 0.." + MAX_U32 + ": " + value);
        }
        return (int) value;
    }

    /** The CID as an unsigned 32-bit value in an int. */
    public int cid() {
        return cid;
    }

    /** The port as an unsigned 32-bit value in an int. */
    public int port() {
        return port;
    }

    /** The svm_flags byte. */
    public int flags() {
        return flags;
    }

    /** The same CID and port with other flags. */
    public VsockAddress withFlags(int newFlags) {
        return newFlags == flags ? this : new VsockAddress(cid, port, newFlags);
    }

    /** The same CID and flags with another port. */
    public VsockAddress withPort(int newPort) {
        return newPort == port ? this : new VsockAddress(cid, newPort, flags);
    }

    /** True when {@link #FLAG_TO_HOST} is set. */
    public boolean toHost() {
        return (flags & FLAG_TO_HOST) != 0;
    }

    /** True when CID and port are the same; flags are routing hints and not part of identity. */
    public boolean sameEndpoint(VsockAddress other) {
        return cid == other.cid && port == other.port;
    }

    /** The CID printed unsigned, or {@code any}. */
    public static String cidToString(int cid) {
        return cid == CID_ANY ? "any" : Integer.toUnsignedString(cid);
    }

    /** The port printed unsigned, or {@code any}. */
    public static String portToString(int port) {
        return port == PORT_ANY ? "any" : Integer.toUnsignedString(port);
    }

    /** The well-known name of a CID, or null. */
    public static String cidName(int cid) {
        return switch (cid) {
            case CID_ANY -> "any";
            case CID_HYPERVISOR -> "hypervisor";
            case CID_LOCAL -> "local";
            case CID_HOST -> "host";
            default -> null;
        };
    }

    /** For people: {@code "1 (local):1234"}, {@code "5:22 [to-host]"}. */
    public String describe() {
        String name = cidName(cid);
        String c = name == null ? Integer.toUnsignedString(cid) : cid == CID_ANY ? "any" : cid + " (" + name + ")";
        return c + ":" + portToString(port) + (toHost() ? " [to-host]" : "");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VsockAddress a && a.cid == cid && a.port == port && a.flags == flags;
    }

    @Override
    public int hashCode() {
        return (cid * 31 + port) * 31 + flags;
    }

    /** {@code CID:PORT} with numbers, {@code any} for the wildcards; parseable by {@link #parse}. */
    @Override
    public String toString() {
        return cidToString(cid) + ":" + portToString(port);
    }
}
