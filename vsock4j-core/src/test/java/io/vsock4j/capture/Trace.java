package io.vsock4j.capture;

import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import java.util.ArrayList;
import java.util.List;

/**
 * The packets of one connection as a capture shows them, each seen from the connection's roles: the
 * client is the side that sent REQUEST, the server the side it asked. Immutable; built by tests.
 */
record Trace(String name, List<Step> steps) {
    /** Which way a packet went. */
    enum Dir {
        C2S("C>S"), S2C("S>C");

        final String arrow;

        Dir(String arrow) {
            this.arrow = arrow;
        }

        Dir reverse() {
            return this == C2S ? S2C : C2S;
        }
    }

    /** One packet of the connection. */
    record Step(Dir dir, Packet p, int opClass) {
        boolean isControl() {
            return p.op == VirtioVsock.OP_REQUEST || p.op == VirtioVsock.OP_RESPONSE
                    || p.op == VirtioVsock.OP_SHUTDOWN || p.op == VirtioVsock.OP_RST;
        }

        /** An RST from the kernel's "no socket" path: no credit fields (virtio_transport_reset_no_sock). */
        boolean isNoSocketReset() {
            return p.op == VirtioVsock.OP_RST && p.bufAlloc == 0 && p.fwdCnt == 0;
        }

        @Override
        public String toString() {
            StringBuilder s = new StringBuilder().append(dir.arrow).append(' ').append(VirtioVsock.opName(p.op));
            if (p.len != 0) {
                s.append(" len=").append(Integer.toUnsignedString(p.len));
            }
            if (p.flags != 0) {
                s.append(" flags=").append(p.flags);
            }
            return s.append(" buf=").append(Integer.toUnsignedString(p.bufAlloc))
                    .append(" fwd=").append(Integer.toUnsignedString(p.fwdCnt)).toString();
        }
    }

    /** The trace of a capture that holds exactly one connection (one pair of addresses). */
    static Trace of(String name, List<CapturedPacket> records) {
        if (records.isEmpty()) {
            return new Trace(name, List.of());
        }
        Packet first = records.getFirst().header();
        if (first.op != VirtioVsock.OP_REQUEST) {
            throw new IllegalArgumentException(name + ": the capture does not open with REQUEST but " + first);
        }
        List<Step> steps = new ArrayList<>();
        for (CapturedPacket r : records) {
            Packet p = r.header();
            Dir dir;
            if (sameEnd(p.srcCid, p.srcPort, first.srcCid, first.srcPort) && sameEnd(p.dstCid, p.dstPort, first.dstCid, first.dstPort)) {
                dir = Dir.C2S;
            } else if (sameEnd(p.srcCid, p.srcPort, first.dstCid, first.dstPort) && sameEnd(p.dstCid, p.dstPort, first.srcCid, first.srcPort)) {
                dir = Dir.S2C;
            } else {
                throw new IllegalArgumentException(name + ": a second connection in one capture: " + p);
            }
            steps.add(new Step(dir, p, r.opClass()));
        }
        return new Trace(name, List.copyOf(steps));
    }

    private static boolean sameEnd(long cidA, int portA, long cidB, int portB) {
        return cidA == cidB && portA == portB;
    }

    /** Whether this is a SEQPACKET connection. */
    boolean seqpacket() {
        return !steps.isEmpty() && steps.getFirst().p.type == VirtioVsock.TYPE_SEQPACKET;
    }

    /** A copy without step {@code index}. */
    Trace without(int index) {
        List<Step> copy = new ArrayList<>(steps);
        copy.remove(index);
        return new Trace(name + " (step " + (index + 1) + " dropped)", List.copyOf(copy));
    }

    /** A copy with {@code step} inserted before step {@code index}. */
    Trace with(int index, Step step) {
        List<Step> copy = new ArrayList<>(steps);
        copy.add(index, step);
        return new Trace(name + " (" + step + " inserted at " + (index + 1) + ")", List.copyOf(copy));
    }

    /** The index of the first step that {@code test} accepts at or after {@code from}; -1 if none. */
    int find(int from, java.util.function.Predicate<Step> test) {
        for (int i = from; i < steps.size(); i++) {
            if (test.test(steps.get(i))) {
                return i;
            }
        }
        return -1;
    }

    /** A copy in which step {@code index} carries other flags. */
    Trace withFlags(int index, int flags) {
        List<Step> copy = new ArrayList<>(steps);
        Step s = copy.get(index);
        Packet p = copyOf(s.p);
        p.flags = flags;
        copy.set(index, new Step(s.dir, p, s.opClass));
        return new Trace(name + " (step " + (index + 1) + " flags=" + flags + ")", List.copyOf(copy));
    }

    private static Packet copyOf(Packet src) {
        Packet p = new Packet();
        p.srcCid = src.srcCid;
        p.dstCid = src.dstCid;
        p.srcPort = src.srcPort;
        p.dstPort = src.dstPort;
        p.len = src.len;
        p.type = src.type;
        p.op = src.op;
        p.flags = src.flags;
        p.bufAlloc = src.bufAlloc;
        p.fwdCnt = src.fwdCnt;
        return p;
    }

    /** Both traces in two numbered columns, for a failure message. */
    static String sideBySide(Trace left, Trace right) {
        int width = 52;
        StringBuilder s = new StringBuilder();
        s.append(String.format("    %-" + width + "s %s%n", left.name, right.name));
        for (int i = 0; i < Math.max(left.steps.size(), right.steps.size()); i++) {
            String l = i < left.steps.size() ? left.steps.get(i).toString() : "";
            String r = i < right.steps.size() ? right.steps.get(i).toString() : "";
            s.append(String.format("%3d %-" + width + "s %s%n", i + 1, l, r));
        }
        return s.toString();
    }
}
