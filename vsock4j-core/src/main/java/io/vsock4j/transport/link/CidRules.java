package io.vsock4j.transport.link;

import io.vsock4j.VsockAddress;

/** Which CIDs a host may give a guest (vhost_vsock_set_cid): above 2 and not U32_MAX. Any thread. */
final class CidRules {
    private CidRules() {
    }

    static boolean isGuestCid(int cid) {
        return Integer.compareUnsigned(cid, VsockAddress.CID_HOST) > 0 && cid != VsockAddress.CID_ANY;
    }
}
