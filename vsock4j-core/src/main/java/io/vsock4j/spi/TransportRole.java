package io.vsock4j.spi;

import io.vsock4j.VsockAddress;

/**
 * The slots of Linux's multi-transport vsock core (net/vmw_vsock/af_vsock.c, since 5.5): each holds at
 * most one transport, and the core picks a slot per connection from the peer's CID.
 */
public enum TransportRole {
    /** Host to guest: this machine is the host of guests (vhost-vsock, vmci host). Its local CID is 2. */
    H2G(VsockAddress.CID_HOST),
    /** Guest to host: this machine is a guest (virtio-vsock, vmci guest, hyperv). Local CID >= 3. */
    G2H(VsockAddress.CID_ANY),
    /** Loopback: this machine talking to itself (vsock_loopback, CID 1). */
    LOCAL(VsockAddress.CID_LOCAL);

    /** The local CID of the role, or CID_ANY when each transport has its own (G2H). */
    private final int localCid;

    TransportRole(int localCid) {
        this.localCid = localCid;
    }

    /**
     * The local CID every transport in this role has, as vhost and vsock_loopback report it: 2 for H2G,
     * 1 for LOCAL. A G2H transport's is the CID its host gave it, so it has none here.
     *
     * @throws IllegalStateException for G2H
     */
    public int localCid() {
        if (localCid == VsockAddress.CID_ANY) {
            throw new IllegalStateException("a " + this + " transport's local CID is the one its host gave it");
        }
        return localCid;
    }
}
