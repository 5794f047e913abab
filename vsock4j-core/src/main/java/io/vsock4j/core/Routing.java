package io.vsock4j.core;

import io.vsock4j.VsockAddress;
import io.vsock4j.spi.TransportRole;

/**
 * The rules by which Linux's vsock core (net/vmw_vsock/af_vsock.c, 5.5+) picks a transport for a
 * connection, decides which CIDs a socket may bind, and answers the local-CID query. Pure functions of
 * which slots are filled; the machine applies them. Any thread.
 */
public final class Routing {
    private Routing() {
    }

    /**
     * Which transport slots a machine fills, and the CID of its G2H transport (the guest's own CID).
     *
     * @param g2hCid meaningful only when {@code g2h}
     */
    public record Slots(boolean h2g, boolean g2h, int g2hCid, boolean local) {
        public boolean has(TransportRole role) {
            return switch (role) {
                case H2G -> h2g;
                case G2H -> g2h;
                case LOCAL -> local;
            };
        }
    }

    /** vsock_use_local_transport: does a connection to {@code cid} stay on this machine? */
    public static boolean useLocal(Slots s, int cid) {
        if (!s.local()) {
            return false;
        }
        if (cid == VsockAddress.CID_LOCAL) {
            return true;
        }
        return s.g2h() ? cid == s.g2hCid() : cid == VsockAddress.CID_HOST;
    }

    /**
     * vsock_assign_transport for STREAM and SEQPACKET: LOCAL when {@link #useLocal}; else G2H when the CID
     * is at most 2, when there is no H2G, or when the address says TO_HOST; else H2G. The slot may be
     * empty: the caller answers ENODEV.
     */
    public static TransportRole connectRole(Slots s, int cid, int flags) {
        if (useLocal(s, cid)) {
            return TransportRole.LOCAL;
        }
        if (Integer.compareUnsigned(cid, VsockAddress.CID_HOST) <= 0 || !s.h2g()
                || (flags & VsockAddress.FLAG_TO_HOST) != 0) {
            return TransportRole.G2H;
        }
        return TransportRole.H2G;
    }

    /**
     * Why {@link #connectRole} picks the slot it picks, in words, for people ({@code vsock info}, the demo).
     */
    public static String explain(Slots s, int cid, int flags) {
        String c = "CID " + VsockAddress.cidToString(cid);
        if (useLocal(s, cid)) {
            if (cid == VsockAddress.CID_LOCAL) {
                return c + " is the loopback CID: LOCAL";
            }
            return c + " is this machine's own CID and a loopback transport is loaded: LOCAL";
        }
        if (Integer.compareUnsigned(cid, VsockAddress.CID_HOST) <= 0) {
            return c + " is at most 2 (hypervisor, loopback or host): the host's side, G2H";
        }
        if ((flags & VsockAddress.FLAG_TO_HOST) != 0) {
            return c + " has VMADDR_FLAG_TO_HOST: sent to the host over G2H, which forwards it to a sibling";
        }
        if (!s.h2g()) {
            return c + " is a guest CID but this machine runs no guests (no H2G): to the host over G2H";
        }
        return c + " is a guest CID and this machine is a host (H2G): to that guest";
    }

    /**
     * The flags a listener gives the remote address of an arriving request: when both CIDs are guests'
     * (above 2) the traffic is between siblings through the host, so TO_HOST is set and replies go back
     * the way the request came.
     */
    public static int listenFlags(int localCid, int remoteCid) {
        boolean bothGuests = Integer.compareUnsigned(localCid, VsockAddress.CID_HOST) > 0
                && Integer.compareUnsigned(remoteCid, VsockAddress.CID_HOST) > 0;
        return bothGuests ? VsockAddress.FLAG_TO_HOST : 0;
    }

    /** vsock_find_cid: the CIDs a socket may bind besides ANY. */
    public static boolean canBind(Slots s, int cid) {
        if (cid == VsockAddress.CID_ANY) {
            return true;
        }
        return (s.g2h() && cid == s.g2hCid())
                || (s.h2g() && cid == VsockAddress.CID_HOST)
                || (s.local() && cid == VsockAddress.CID_LOCAL);
    }

    /**
     * IOCTL_VM_SOCKETS_GET_LOCAL_CID: the G2H transport's CID, else 2 when only H2G is loaded, else 1
     * when only the loopback is (newer kernels), else ANY.
     */
    public static int localCid(Slots s) {
        if (s.g2h()) {
            return s.g2hCid();
        }
        if (s.h2g()) {
            return VsockAddress.CID_HOST;
        }
        if (s.local()) {
            return VsockAddress.CID_LOCAL;
        }
        return VsockAddress.CID_ANY;
    }
}
