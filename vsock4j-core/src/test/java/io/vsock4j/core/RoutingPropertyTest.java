package io.vsock4j.core;

import io.vsock4j.VsockAddress;
import io.vsock4j.spi.TransportRole;
import io.vsock4j.testing.Trials;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Routing} against a second, independently written model of the kernel's rules: the model
 * thinks in sets of CIDs a machine calls its own, where Routing follows af_vsock.c's code. Seeded
 * random slots and CIDs ({@link Trials}: a failure names the seed).
 */
class RoutingPropertyTest {

    /** The model: which CIDs a machine answers for locally, and where everything else goes. */
    private record Model(boolean h2g, boolean g2h, int g2hCid, boolean local) {
        Set<Integer> loopbackCids() {
            Set<Integer> s = new HashSet<>();
            if (local) {
                s.add(VsockAddress.CID_LOCAL);
                s.add(g2h ? g2hCid : VsockAddress.CID_HOST);
            }
            return s;
        }

        Set<Integer> bindableCids() {
            Set<Integer> s = new HashSet<>();
            s.add(VsockAddress.CID_ANY);
            if (g2h) {
                s.add(g2hCid);
            }
            if (h2g) {
                s.add(VsockAddress.CID_HOST);
            }
            if (local) {
                s.add(VsockAddress.CID_LOCAL);
            }
            return s;
        }

        TransportRole route(int cid, int flags) {
            if (loopbackCids().contains(cid)) {
                return TransportRole.LOCAL;
            }
            boolean wellKnown = cid == VsockAddress.CID_HYPERVISOR || cid == VsockAddress.CID_LOCAL
                    || cid == VsockAddress.CID_HOST;
            boolean toHost = (flags & VsockAddress.FLAG_TO_HOST) != 0;
            return wellKnown || toHost || !h2g ? TransportRole.G2H : TransportRole.H2G;
        }

        int localCid() {
            return g2h ? g2hCid : h2g ? VsockAddress.CID_HOST : local ? VsockAddress.CID_LOCAL : VsockAddress.CID_ANY;
        }

        Routing.Slots slots() {
            return new Routing.Slots(h2g, g2h, g2h ? g2hCid : VsockAddress.CID_ANY, local);
        }
    }

    private static final int[] INTERESTING_GUEST_CIDS = {3, 4, 5, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE};
    private static final int[] INTERESTING_CIDS = {0, 1, 2, 3, 4, 5, -1, -2, 0x80000000, 0x7FFFFFFF};

    /** Every combination of slots, with a guest CID that is often an edge and otherwise small. */
    private static Model model(SplittableRandom r) {
        int guestCid = r.nextBoolean() ? Trials.oneOf(r, INTERESTING_GUEST_CIDS) : r.nextInt(3, 1001);
        return new Model(r.nextBoolean(), r.nextBoolean(), guestCid, r.nextBoolean());
    }

    /** A CID to route or bind: an edge, a small one, any int, or (an eighth of the time) the guest's own. */
    private static int cid(SplittableRandom r, Model m) {
        return switch (r.nextInt(8)) {
            case 0, 1, 2 -> Trials.oneOf(r, INTERESTING_CIDS);
            case 3, 4 -> r.nextInt(0, 1001);
            case 5, 6 -> r.nextInt();
            default -> m.g2hCid();
        };
    }

    private static int flags(SplittableRandom r) {
        return r.nextBoolean() ? 0 : VsockAddress.FLAG_TO_HOST;
    }

    @Test
    void connectGoesWhereTheModelSays() {
        Trials.forAll("connectGoesWhereTheModelSays", 3000, r -> {
            Model m = model(r);
            int cid = cid(r, m);
            int flags = flags(r);
            assertThat(Routing.connectRole(m.slots(), cid, flags)).as("%s, CID %s, flags %d", m,
                    Integer.toUnsignedString(cid), flags).isEqualTo(m.route(cid, flags));
        });
    }

    @Test
    void connectToTheModelsOwnCidsStaysLocal() {
        Trials.forAll("connectToTheModelsOwnCidsStaysLocal", 3000, r -> {
            Model m = model(r);
            int flags = flags(r);
            for (int cid : m.loopbackCids()) {
                assertThat(Routing.connectRole(m.slots(), cid, flags)).as("%s, CID %s, flags %d", m,
                        Integer.toUnsignedString(cid), flags).isEqualTo(TransportRole.LOCAL);
            }
        });
    }

    @Test
    void bindAcceptsExactlyTheModelsCids() {
        Trials.forAll("bindAcceptsExactlyTheModelsCids", 3000, r -> {
            Model m = model(r);
            int cid = cid(r, m);
            assertThat(Routing.canBind(m.slots(), cid)).as("%s, CID %s", m, Integer.toUnsignedString(cid))
                    .isEqualTo(m.bindableCids().contains(cid));
        });
    }

    @Test
    void localCidIsTheModels() {
        Trials.forAll("localCidIsTheModels", 1000, r -> {
            Model m = model(r);
            assertThat(Routing.localCid(m.slots())).as("%s", m).isEqualTo(m.localCid());
        });
    }
}
