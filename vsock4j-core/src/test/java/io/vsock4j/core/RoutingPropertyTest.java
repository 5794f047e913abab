package io.vsock4j.core;

import io.vsock4j.VsockAddress;
import io.vsock4j.spi.TransportRole;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Routing} against a second, independently written model of the kernel's rules: the model
 * thinks in sets of CIDs a machine calls its own, where Routing follows af_vsock.c's code.
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

    @Provide
    Arbitrary<Model> models() {
        Arbitrary<Integer> guestCids = Arbitraries.oneOf(
                Arbitraries.of(3, 4, 5, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE),
                Arbitraries.integers().between(3, 1000));
        return Combinators.combine(Arbitraries.of(true, false), Arbitraries.of(true, false), guestCids,
                Arbitraries.of(true, false)).as(Model::new);
    }

    @Provide
    Arbitrary<Integer> cids() {
        return Arbitraries.oneOf(
                Arbitraries.of(0, 1, 2, 3, 4, 5, -1, -2, 0x80000000, 0x7FFFFFFF),
                Arbitraries.integers().between(0, 1000),
                Arbitraries.integers());
    }

    @Provide
    Arbitrary<Integer> flags() {
        return Arbitraries.of(0, VsockAddress.FLAG_TO_HOST);
    }

    @Property(tries = 3000)
    void connectGoesWhereTheModelSays(@ForAll("models") Model m, @ForAll("cids") int cid, @ForAll("flags") int flags) {
        assertThat(Routing.connectRole(m.slots(), cid, flags)).isEqualTo(m.route(cid, flags));
    }

    @Property(tries = 3000)
    void connectToTheModelsOwnCidsStaysLocal(@ForAll("models") Model m, @ForAll("flags") int flags) {
        for (int cid : m.loopbackCids()) {
            assertThat(Routing.connectRole(m.slots(), cid, flags)).isEqualTo(TransportRole.LOCAL);
        }
    }

    @Property(tries = 3000)
    void bindAcceptsExactlyTheModelsCids(@ForAll("models") Model m, @ForAll("cids") int cid) {
        assertThat(Routing.canBind(m.slots(), cid)).isEqualTo(m.bindableCids().contains(cid));
    }

    @Property(tries = 1000)
    void localCidIsTheModels(@ForAll("models") Model m) {
        assertThat(Routing.localCid(m.slots())).isEqualTo(m.localCid());
    }
}
