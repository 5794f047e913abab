package io.vsock4j.cli.device;

import io.vsock4j.VsockAddress;
import io.vsock4j.cli.Converters;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One {@code --vm} of {@code vsock device}, in vhost-device-vsock's shape:
 * {@code guest-cid=N,socket=PATH[,uds-path=PATH][,groups=G1+G2][,tx-buffer-size=BYTES][,queue-size=N]}.
 * {@link #parse} checks one value alone and says what is wrong in one line; what involves several
 * {@code --vm}s (a CID or a path used twice) is {@link VmSpecs}'s. Immutable.
 *
 * @param guestCid the guest's CID, 3 .. 4294967294
 * @param socket where QEMU's {@code -chardev socket,path=...} connects: the vhost-user socket
 * @param udsPath the hybrid vsock socket (Firecracker's uds_path), or null for none
 * @param groups the sibling groups: a guest reaches exactly the guests that share one with it
 * @param txBufferBytes accepted for compatibility: vhost-device-vsock's per-connection buffer
 * @param queueSize accepted for compatibility: the largest ring the device takes
 */
public record VmSpec(int guestCid, Path socket, Path udsPath, Set<String> groups, long txBufferBytes, int queueSize) {
    public static final String DEFAULT_GROUP = "default";
    /** vhost-device-vsock's default tx buffer per connection. */
    public static final long DEFAULT_TX_BUFFER_BYTES = 64 * 1024;
    /** vhost-device-vsock's default ring size, also the largest this device serves (VsockDevice). */
    public static final int MAX_QUEUE_SIZE = 1024;
    /** sun_path holds 108 bytes with the terminating NUL. */
    static final int MAX_SOCKET_PATH_BYTES = 107;
    private static final List<String> KEYS = List.of("guest-cid", "socket", "uds-path", "groups", "tx-buffer-size", "queue-size");

    /** Parses one {@code --vm} value; IllegalArgumentException with a one-line message when it is wrong. */
    public static VmSpec parse(String text) {
        Map<String, String> values = keyValues(text);
        String cidText = values.get("guest-cid");
        String socketText = values.get("socket");
        if (cidText == null || socketText == null) {
            throw new IllegalArgumentException("--vm needs guest-cid=N and socket=PATH: '" + text + "'");
        }
        int cid = guestCid(cidText);
        Path socket = socketPath("socket", socketText);
        Path uds = values.containsKey("uds-path") ? socketPath("uds-path", values.get("uds-path")) : null;
        if (socket.equals(uds)) {
            throw new IllegalArgumentException("socket and uds-path are the same file: " + socket);
        }
        return new VmSpec(cid, socket, uds, groups(values.getOrDefault("groups", DEFAULT_GROUP)),
                txBuffer(values.get("tx-buffer-size")), queueSize(values.get("queue-size")));
    }

    private static Map<String, String> keyValues(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String item : text.split(",", -1)) {
            int eq = item.indexOf('=');
            String key = eq < 0 ? item.strip() : item.substring(0, eq).strip();
            if (eq < 0 || item.substring(eq + 1).isEmpty()) {
                throw new IllegalArgumentException("--vm wants KEY=VALUE items separated by commas: '" + item + "' in '" + text + "'");
            }
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("--vm: unknown key '" + key + "' (known: " + String.join(", ", KEYS) + ")");
            }
            if (values.put(key, item.substring(eq + 1)) != null) {
                throw new IllegalArgumentException("--vm: " + key + " given twice in '" + text + "'");
            }
        }
        return values;
    }

    private static int guestCid(String text) {
        long cid;
        try {
            cid = Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("guest-cid is not a number: '" + text + "'");
        }
        if (cid < VsockAddress.CID_FIRST_GUEST || cid >= 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("guest-cid " + text + " is not a guest's: 0 (hypervisor), 1 (local), 2 (host)"
                    + " and 4294967295 (any) are reserved; guests have 3 to 4294967294");
        }
        return (int) cid;
    }

    private static Path socketPath(String key, String text) {
        Path p = Path.of(text).toAbsolutePath().normalize();
        int bytes = p.toString().getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_SOCKET_PATH_BYTES) {
            throw new IllegalArgumentException(key + " " + p + " is " + bytes + " bytes; a Unix socket path holds at most "
                    + MAX_SOCKET_PATH_BYTES);
        }
        if (key.equals("uds-path") && bytes + 11 > MAX_SOCKET_PATH_BYTES) {
            throw new IllegalArgumentException("uds-path " + p + " leaves no room for the '_PORT' of guest-initiated sockets"
                    + " (at most " + (MAX_SOCKET_PATH_BYTES - 11) + " bytes)");
        }
        return p;
    }

    private static Set<String> groups(String text) {
        Set<String> groups = new LinkedHashSet<>();
        for (String g : text.split("\\+", -1)) {
            if (g.isBlank()) {
                throw new IllegalArgumentException("groups wants names joined by '+': '" + text + "'");
            }
            groups.add(g.strip());
        }
        return Set.copyOf(groups);
    }

    private static long txBuffer(String text) {
        if (text == null) {
            return DEFAULT_TX_BUFFER_BYTES;
        }
        long n;
        try {
            n = new Converters.Bytes().convert(text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("tx-buffer-size: " + e.getMessage());
        }
        if (n > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("tx-buffer-size " + text + " is more than 4294967295 bytes");
        }
        return n;
    }

    private static int queueSize(String text) {
        if (text == null) {
            return MAX_QUEUE_SIZE;
        }
        int n;
        try {
            n = Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("queue-size is not a number: '" + text + "'");
        }
        if (n <= 0 || Integer.bitCount(n) != 1 || n > MAX_QUEUE_SIZE) {
            throw new IllegalArgumentException("queue-size " + text + ": a power of two up to " + MAX_QUEUE_SIZE
                    + " (the largest ring this device serves)");
        }
        return n;
    }

    /** Prints as a {@code --vm} value would be written. */
    @Override
    public String toString() {
        return "guest-cid=" + Integer.toUnsignedString(guestCid) + ",socket=" + socket
                + (udsPath == null ? "" : ",uds-path=" + udsPath);
    }
}
