package io.vsock4j.cli.nc;

import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.transport.hybrid.HybridClientTransport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code vsock nc --hybrid CID=PATH} (repeatable): guests behind Firecracker or Cloud Hypervisor, whose
 * vsock is the Unix socket PATH on this host (the VMM's {@code uds_path}). With it, nc runs on a machine
 * of this JVM whose H2G transport is a {@link HybridClientTransport} for exactly those guests: connecting
 * to CID says {@code CONNECT <port>} on PATH, and {@code -l PORT} serves {@code PATH_PORT}, where the
 * VMM connects when its guest dials host port PORT. Parsing on the main thread; the machine is the run's.
 */
final class HybridGuests {
    private HybridGuests() {
    }

    /**
     * The table from the option's values, in the order given.
     *
     * @throws IllegalArgumentException a value that is not CID=PATH with a guest CID (3 and up), or a CID given twice
     */
    static Map<Integer, Path> parse(List<String> values) {
        Map<Integer, Path> table = new LinkedHashMap<>();
        for (String v : values) {
            int eq = v.indexOf('=');
            if (eq <= 0 || eq == v.length() - 1) {
                throw new IllegalArgumentException("--hybrid wants CID=PATH (the VMM's vsock Unix socket): '" + v + "'");
            }
            int cid = VsockAddress.parseCid(v.substring(0, eq));
            if (Integer.compareUnsigned(cid, VsockAddress.CID_HOST) <= 0 || cid == VsockAddress.CID_ANY) {
                throw new IllegalArgumentException("--hybrid: " + VsockAddress.cidToString(cid) + " is not a guest CID (3 and up)");
            }
            if (table.putIfAbsent(cid, Path.of(v.substring(eq + 1))) != null) {
                throw new IllegalArgumentException("--hybrid: CID " + VsockAddress.cidToString(cid) + " given twice");
            }
        }
        return table;
    }

    /**
     * A machine (local CID 2) whose only transport reaches these guests over their Unix sockets; a VMM
     * gets at least {@code connectMillis} (nc's -w) to answer CONNECT.
     */
    static Machine machine(Map<Integer, Path> guests, int connectMillis) {
        Duration handshake = HybridClientTransport.DEFAULT_HANDSHAKE_TIMEOUT;
        if (connectMillis > handshake.toMillis()) {
            handshake = Duration.ofMillis(connectMillis);
        }
        return Machine.builder().name("nc-hybrid").transport(new HybridClientTransport(guests, handshake)).build();
    }
}
