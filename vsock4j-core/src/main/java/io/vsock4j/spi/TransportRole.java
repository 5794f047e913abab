package io.vsock4j.spi;

/**
 * The slots of Linux's multi-transport vsock core (net/vmw_vsock/af_vsock.c, since 5.5): each holds at
 * most one transport, and the core picks a slot per connection from the peer's CID.
 */
public enum TransportRole {
    /** Host to guest: this machine is the host of guests (vhost-vsock, vmci host). Its local CID is 2. */
    H2G,
    /** Guest to host: this machine is a guest (virtio-vsock, vmci guest, hyperv). Local CID >= 3. */
    G2H,
    /** Loopback: this machine talking to itself (vsock_loopback, CID 1). */
    LOCAL
}
