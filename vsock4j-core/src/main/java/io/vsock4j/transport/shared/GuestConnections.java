package io.vsock4j.transport.shared;

import io.vsock4j.VsockAddress;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which guest connections a {@link GuestRelay} carries, by host port, so that when a host process dies
 * (the daemon says its ports are GONE) the guests' ends can be reset, as the kernel resets a dead
 * process's sockets. The relay reads no more than the op of each packet: REQUEST and RESPONSE add a
 * connection, RST removes it; a guest whose VMM left loses its entries at once.
 *
 * <p>Threads: any (the guests' ring threads and the link's reader); one lock, held only for a map
 * operation. Connections end with RST in virtio-vsock, so an entry outlives its connection only when
 * the RST was lost, and then only until its port is GONE or its guest leaves.
 */
final class GuestConnections {
    /** A guest's end of a connection: what an RST to it needs. */
    private record GuestEnd(int cid, int port, int type) {
    }

    private final Object lock = new Object();
    /** Host port to the guest ends connected to it. Guarded by lock. */
    private final Map<Integer, Set<GuestEnd>> byHostPort = new HashMap<>();

    /** A packet from a guest to CID 2. */
    void fromGuest(Packet p) {
        note(p.op, p.dstPort, new GuestEnd((int) p.srcCid, p.srcPort, p.type));
    }

    /** A packet from CID 2 to a guest. */
    void toGuest(Packet p) {
        note(p.op, p.srcPort, new GuestEnd((int) p.dstCid, p.dstPort, p.type));
    }

    private void note(int op, int hostPort, GuestEnd guest) {
        if (op != VirtioVsock.OP_REQUEST && op != VirtioVsock.OP_RESPONSE && op != VirtioVsock.OP_RST) {
            return;
        }
        synchronized (lock) {
            if (op == VirtioVsock.OP_RST) {
                Set<GuestEnd> ends = byHostPort.get(hostPort);
                if (ends != null && ends.remove(guest) && ends.isEmpty()) {
                    byHostPort.remove(hostPort);
                }
            } else {
                byHostPort.computeIfAbsent(hostPort, k -> new HashSet<>()).add(guest);
            }
        }
    }

    /** The host ports' process died: RSTs for every guest end connected to them, which forgets them. */
    List<Packet> resetsForGone(int[] hostPorts) {
        List<Packet> resets = new ArrayList<>();
        synchronized (lock) {
            for (int port : hostPorts) {
                Set<GuestEnd> ends = byHostPort.remove(port);
                if (ends != null) {
                    for (GuestEnd g : ends) {
                        resets.add(reset(port, g));
                    }
                }
            }
        }
        return resets;
    }

    /** The host's side is gone as a whole (the daemon died): RSTs for every guest end, which forgets them all. */
    List<Packet> resetsForAll() {
        int[] ports;
        synchronized (lock) {
            ports = byHostPort.keySet().stream().mapToInt(Integer::intValue).toArray();
        }
        return resetsForGone(ports);
    }

    /** The guest's VMM left (CID_ANY: every guest): its connections are gone with it. */
    void forgetGuest(int cid) {
        synchronized (lock) {
            byHostPort.values().removeIf(ends -> {
                ends.removeIf(g -> cid == VsockAddress.CID_ANY || g.cid() == cid);
                return ends.isEmpty();
            });
        }
    }

    /** Connections known (tests check that ended ones are forgotten). */
    int size() {
        synchronized (lock) {
            return byHostPort.values().stream().mapToInt(Set::size).sum();
        }
    }

    private static Packet reset(int hostPort, GuestEnd guest) {
        Packet p = new Packet();
        p.type = guest.type();
        p.op = VirtioVsock.OP_RST;
        p.srcCid = VsockAddress.CID_HOST;
        p.srcPort = hostPort;
        p.dstCid = Integer.toUnsignedLong(guest.cid());
        p.dstPort = guest.port();
        return p;
    }
}
