package io.vsock4j.cli.device;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The checks across all {@code --vm}s of one {@code vsock device}: CIDs and socket files used once each. Stateless. */
final class VmSpecs {
    private VmSpecs() {
    }

    /** IllegalArgumentException with a one-line message for the first CID or path used twice. */
    static void checkDistinct(List<VmSpec> vms) {
        Map<Integer, VmSpec> cids = new HashMap<>();
        Map<Path, String> paths = new HashMap<>();
        for (VmSpec vm : vms) {
            VmSpec other = cids.putIfAbsent(vm.guestCid(), vm);
            if (other != null) {
                throw new IllegalArgumentException("guest-cid " + Integer.toUnsignedString(vm.guestCid()) + " is given to two --vm");
            }
            claim(paths, vm.socket(), "socket of guest " + Integer.toUnsignedString(vm.guestCid()));
            if (vm.udsPath() != null) {
                claim(paths, vm.udsPath(), "uds-path of guest " + Integer.toUnsignedString(vm.guestCid()));
            }
        }
    }

    private static void claim(Map<Path, String> paths, Path p, String use) {
        String before = paths.putIfAbsent(p, use);
        if (before != null) {
            throw new IllegalArgumentException(p + " is both the " + before + " and the " + use);
        }
    }
}
