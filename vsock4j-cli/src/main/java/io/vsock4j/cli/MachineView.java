package io.vsock4j.cli;

import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.core.Routing;
import io.vsock4j.SocketProvider;
import io.vsock4j.spi.Transport;
import io.vsock4j.spi.TransportRole;
import io.vsock4j.transport.kernel.KernelProvider;
import io.vsock4j.transport.kernel.KernelVsock;

import java.util.EnumMap;
import java.util.Map;

/**
 * What {@code vsock info} knows about a provider: its local CID and, when the provider can say, which
 * transport fills each slot (H2G, G2H, LOCAL). A vsock4j {@link Machine} knows its slots; another
 * kernel provider's come from its detection (local-CID ioctl, /dev/vhost-vsock, a bind to CID 1).
 * Immutable.
 *
 * @param slots      null when the provider cannot tell which slots are filled
 * @param transports a short name per filled slot
 */
public record MachineView(String provider, int localCid, Routing.Slots slots, Map<TransportRole, String> transports) {

    /** The view of a provider: a Machine describes itself; for any other only the local CID is known. */
    public static MachineView of(SocketProvider provider) {
        if (provider instanceof Machine m) {
            Map<TransportRole, String> names = new EnumMap<>(TransportRole.class);
            for (TransportRole role : TransportRole.values()) {
                Transport t = m.transport(role);
                if (t != null) {
                    names.put(role, t.toString());
                }
            }
            return new MachineView("vsock4j machine '" + m.name() + "' (Java engine)", m.localCid(), m.slots(), names);
        }
        if (provider instanceof KernelProvider k) {
            return ofKernel(k.detection());
        }
        return new MachineView(provider.name(), provider.localCid(), null, Map.of());
    }

    private static MachineView ofKernel(KernelVsock.Detection d) {
        Routing.Slots slots = new Routing.Slots(d.has(TransportRole.H2G), d.has(TransportRole.G2H),
                d.has(TransportRole.G2H) ? d.localCid() : VsockAddress.CID_ANY, d.has(TransportRole.LOCAL));
        Map<TransportRole, String> names = new EnumMap<>(TransportRole.class);
        if (d.has(TransportRole.H2G)) {
            names.put(TransportRole.H2G, "kernel H2G (/dev/vhost-vsock)");
        }
        if (d.has(TransportRole.G2H)) {
            names.put(TransportRole.G2H, "kernel G2H (CID " + Integer.toUnsignedString(d.localCid()) + ")");
        }
        if (d.has(TransportRole.LOCAL)) {
            names.put(TransportRole.LOCAL, "kernel vsock_loopback (CID 1)");
        }
        return new MachineView("the kernel's AF_VSOCK", d.localCid(), slots, names);
    }

    /** A provider whose slots are known by other means. */
    public static MachineView of(SocketProvider provider, Routing.Slots slots, Map<TransportRole, String> transports) {
        return new MachineView(provider.name(), provider.localCid(), slots, Map.copyOf(transports));
    }

    /** Plain-words name of a role. */
    static String roleWords(TransportRole role) {
        return switch (role) {
            case H2G -> "host to guests";
            case G2H -> "guest to host";
            case LOCAL -> "loopback";
        };
    }

    /** A CID for people: {@code 2 (host)}. */
    static String cidWords(int cid) {
        String name = VsockAddress.cidName(cid);
        if (cid == VsockAddress.CID_ANY) {
            return "unknown (no transport answers the local-CID query)";
        }
        return Integer.toUnsignedString(cid) + (name == null ? "" : " (" + name + ")");
    }
}
