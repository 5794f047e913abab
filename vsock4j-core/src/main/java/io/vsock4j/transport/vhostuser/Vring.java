package io.vsock4j.transport.vhostuser;

/**
 * What the backend knows of one ring on the current connection: the settings the frontend sent, the
 * eventfds it owns, and where the ring stands. A ring is <em>stopped</em> until it has a kick (an
 * eventfd, or the no-fd flag for polling), is enabled, and has its size and addresses; then it is
 * <em>started</em> and the device runs it, until GET_VRING_BASE, a disable, a reconfiguration or the
 * end of the connection stops it again. Enabled means SET_VRING_ENABLE 1, or always when
 * VHOST_USER_F_PROTOCOL_FEATURES was not negotiated (the spec's rule); FrontendSession decides that.
 *
 * <p>Thread-safety: only the backend's thread touches it.
 */
final class Vring {
    /** Descriptors; 0 until SET_VRING_NUM. */
    int size;
    /** SET_VRING_ADDR's payload; null until sent. */
    VringAddress address;
    /** The available index to start from: SET_VRING_BASE, or where the ring last stopped. */
    int nextAvail;
    /** SET_VRING_KICK arrived (with an eventfd, or with the no-fd flag: then {@link #kick} is null). */
    boolean kickSet;
    EventFd kick;
    EventFd call;
    EventFd err;
    /** SET_VRING_ENABLE's last value. */
    boolean enabledByFrontend;
    boolean started;

    /** The setup the device receives when the ring starts. */
    VringSetup setup() {
        return new VringSetup(size, address.descUserAddr(), address.availUserAddr(), address.usedUserAddr(),
                nextAvail, address.flags());
    }

    /** Closes the kick and call eventfds and forgets the kick (GET_VRING_BASE, per libvhost-user and rust-vmm). */
    void dropKickAndCall() {
        kickSet = false;
        kick = close(kick);
        call = close(call);
    }

    /** Forgets everything: the connection ended or the owner reset. The ring must be stopped. */
    void reset() {
        dropKickAndCall();
        err = close(err);
        size = 0;
        address = null;
        nextAvail = 0;
        enabledByFrontend = false;
    }

    private static EventFd close(EventFd e) {
        if (e != null) {
            e.close();
        }
        return null;
    }
}
