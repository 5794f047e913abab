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

    /** Parses a CID: an unsigned 32-bit number or one of any, hypervisor, local, host. */
    public static int parseCid(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "any", "-1" -> CID_ANY;
            case "hypervisor" -> CID_HYPERVISOR;
            case "local", "loopback" -> CID_LOCAL;
            case "host" -> CID_HOST;
            default -> checkU32("CID", parseNumber("CID", text));
        };
    }

    /** Parses a port: an unsigned 32-bit number or {@code any}. */
    public static int parsePort(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("any") || t.equals("-1")) {
            return PORT_ANY;
        }
        return checkU32("port", parseNumber("port", text));
    }

    private static long parseNumber(String what, String text) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " is not a number: '" + text + "'");
        }
    }

    private static int checkU32(String what, long value) {
        if (value < 0 || value > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(what + " out of range 0.." + 0xFFFF_FFFFL + ": " + value);
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
