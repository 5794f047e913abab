package io.vsock4j.capture;

import io.vsock4j.capture.Trace.Dir;
import io.vsock4j.capture.Trace.Step;
import io.vsock4j.wire.VirtioVsock;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Holds a trace of vsock4j's engine against the Linux kernel's trace of the same scenario: what must
 * match, what each trace must satisfy on its own, and the short list of what may differ.
 *
 * <p>Must match, kernel against engine:
 * <ol>
 *   <li>the handshake, shutdown and reset packets in order, each with its direction, type, op, flags,
 *       buf_alloc and fwd_cnt (at those points the reader has consumed a fixed number of bytes);</li>
 *   <li>the data between two such packets: per direction, the bytes of a STREAM, or the SEQPACKET
 *       messages with their sizes and EOR marks;</li>
 *   <li>the ops each side uses, and each side's buf_alloc;</li>
 *   <li>SEQPACKET: one CREDIT_UPDATE per message read, so their number per direction.</li>
 * </ol>
 * Must hold in each trace ({@link #invariants}): the vsockmon op class the kernel gives each op; no
 * zero-length RW, no payload outside RW; RW flags only EOM and EOR, EOR only with EOM, none on STREAM;
 * each side's fwd_cnt never decreases and never exceeds the bytes it has received; no RW beyond the
 * credit the peer last advertised; nobody sends anything after the peer's RST (no reply to an RST).
 *
 * <p>May differ ({@link #MAY_DIFFER}), because it depends on timing and on the reader, not on the
 * protocol: see the list.
 */
final class TraceComparison {
    /** What may differ between the kernel and the engine, and why. Nothing else may. */
    static final List<String> MAY_DIFFER = List.of(
            "STREAM: how many CREDIT_UPDATEs there are and where they fall, and the buf_alloc/fwd_cnt they and the"
                    + " RW packets carry: the receiver announces credit when its reader has freed enough, so this depends"
                    + " on how fast and in what chunks the reader reads. Linux 6.1 also advances fwd_cnt only when a whole"
                    + " packet has been consumed, the engine byte by byte.",
            "STREAM: how the bytes between two control packets are cut into RW packets: a writer sends what the"
                    + " credit allows at the moment it runs (the totals must match).",
            "SEQPACKET: where the CREDIT_UPDATEs fall among the RW packets (their number must match).",
            "A second RST from the same side right after its first: Linux's close() on a socket that has already"
                    + " answered the peer's SHUTDOWN(RCV|SEND) with RST sends RST again (virtio_transport_close), to a"
                    + " socket that is gone; the kernel itself did not emit it in every recording.",
            "Timestamps, and the payload bytes beyond the capture's snapshot length.");

    private TraceComparison() {
    }

    /** Everything that breaks the rules: differences from the kernel, then the engine trace's own violations. */
    static List<String> differences(Trace kernel, Trace engine) {
        List<String> out = new ArrayList<>();
        List<Step> kc = control(kernel);
        List<Step> ec = control(engine);
        for (int i = 0; i < Math.max(kc.size(), ec.size()); i++) {
            String k = i < kc.size() ? controlKey(kc.get(i)) : "nothing";
            String e = i < ec.size() ? controlKey(ec.get(i)) : "nothing";
            if (!k.equals(e)) {
                out.add("control packet " + (i + 1) + ": kernel " + k + ", engine " + e);
                break;
            }
        }
        if (kc.size() == ec.size()) {
            compareData(kernel, engine, out);
        }
        for (Dir d : Dir.values()) {
            if (!ops(kernel, d).equals(ops(engine, d))) {
                out.add(d.arrow + " ops: kernel " + ops(kernel, d) + ", engine " + ops(engine, d));
            }
            if (!bufAllocs(kernel, d).equals(bufAllocs(engine, d))) {
                out.add(d.arrow + " buf_alloc: kernel " + bufAllocs(kernel, d) + ", engine " + bufAllocs(engine, d));
            }
            if (kernel.seqpacket() && count(kernel, d, VirtioVsock.OP_CREDIT_UPDATE) != count(engine, d, VirtioVsock.OP_CREDIT_UPDATE)) {
                out.add(d.arrow + " CREDIT_UPDATEs (one per message read): kernel " + count(kernel, d, VirtioVsock.OP_CREDIT_UPDATE)
                        + ", engine " + count(engine, d, VirtioVsock.OP_CREDIT_UPDATE));
            }
        }
        for (String v : invariants(engine)) {
            out.add("engine: " + v);
        }
        return out;
    }

    /** Fails with both traces side by side when the engine's trace differs from the kernel's beyond {@link #MAY_DIFFER}. */
    static void assertMatches(Trace kernel, Trace engine) {
        List<String> problems = differences(kernel, engine);
        if (!problems.isEmpty()) {
            throw new AssertionError(engine.name() + " differs from the kernel's trace:\n  - "
                    + String.join("\n  - ", problems) + "\n\n" + Trace.sideBySide(kernel, engine));
        }
    }

    /** Rules each trace must satisfy by itself. */
    static List<String> invariants(Trace t) {
        List<String> out = new ArrayList<>();
        Map<Dir, Long> received = counters();   // RW bytes each side has received
        Map<Dir, Long> sent = counters();       // RW bytes each side has sent
        Map<Dir, Step> last = new EnumMap<>(Dir.class); // each side's latest packet with credit fields
        Map<Dir, Boolean> reset = new EnumMap<>(Dir.class);
        int n = 0;
        for (Step s : t.steps()) {
            n++;
            String at = "step " + n + " (" + s + "): ";
            Dir me = s.dir();
            Dir peer = me.reverse();
            if (reset.getOrDefault(peer, false)) {
                out.add(at + "sent after the peer's RST");
            }
            if (s.opClass() != Vsockmon.opClass(s.p().op)) {
                out.add(at + "vsockmon op class " + s.opClass() + ", the kernel gives " + Vsockmon.opClass(s.p().op));
            }
            checkShape(s, t.seqpacket(), at, out);
            if (s.p().op == VirtioVsock.OP_RW) {
                sent.merge(me, Integer.toUnsignedLong(s.p().len), Long::sum);
                received.merge(peer, Integer.toUnsignedLong(s.p().len), Long::sum);
                Step credit = last.get(peer);
                if (credit == null) {
                    out.add(at + "RW before the peer advertised any credit");
                } else {
                    long limit = Integer.toUnsignedLong(credit.p().fwdCnt) + Integer.toUnsignedLong(credit.p().bufAlloc);
                    if (sent.get(me) > limit) {
                        out.add(at + "RW beyond the peer's credit: " + sent.get(me) + " bytes sent, the peer allowed "
                                + limit + " (fwd_cnt " + Integer.toUnsignedString(credit.p().fwdCnt) + " + buf_alloc "
                                + Integer.toUnsignedString(credit.p().bufAlloc) + ")");
                    }
                }
            }
            if (!s.isNoSocketReset()) {
                Step before = last.get(me);
                if (before != null && Integer.compareUnsigned(s.p().fwdCnt, before.p().fwdCnt) < 0) {
                    out.add(at + "fwd_cnt went down from " + Integer.toUnsignedString(before.p().fwdCnt));
                }
                if (Integer.toUnsignedLong(s.p().fwdCnt) > received.get(me)) {
                    out.add(at + "fwd_cnt above the " + received.get(me) + " bytes received");
                }
                last.put(me, s);
            }
            if (s.p().op == VirtioVsock.OP_RST) {
                reset.put(me, true);
            }
        }
        return out;
    }

    private static void checkShape(Step s, boolean seqpacket, String at, List<String> out) {
        int op = s.p().op;
        if (op == VirtioVsock.OP_RW && s.p().len == 0) {
            out.add(at + "zero-length RW");
        }
        if (op != VirtioVsock.OP_RW && s.p().len != 0) {
            out.add(at + "payload outside RW");
        }
        int flags = s.p().flags;
        if (op == VirtioVsock.OP_RW) {
            int allowed = seqpacket ? VirtioVsock.SEQ_EOM | VirtioVsock.SEQ_EOR : 0;
            if ((flags & ~allowed) != 0 || ((flags & VirtioVsock.SEQ_EOR) != 0 && (flags & VirtioVsock.SEQ_EOM) == 0)) {
                out.add(at + "RW flags " + flags + " not allowed");
            }
        } else if (op == VirtioVsock.OP_SHUTDOWN) {
            if (flags == 0 || (flags & ~VirtioVsock.SHUTDOWN_BOTH) != 0) {
                out.add(at + "SHUTDOWN flags " + flags);
            }
        } else if (flags != 0) {
            out.add(at + VirtioVsock.opName(op) + " with flags " + flags);
        }
    }

    /** The control packets, without an RST that repeats its side's RST (see {@link #MAY_DIFFER}). */
    private static List<Step> control(Trace t) {
        List<Step> out = new ArrayList<>();
        for (Step s : t.steps()) {
            if (!s.isControl()) {
                continue;
            }
            Step prev = out.isEmpty() ? null : out.getLast();
            if (prev != null && prev.p().op == VirtioVsock.OP_RST && s.p().op == VirtioVsock.OP_RST && prev.dir() == s.dir()) {
                continue;
            }
            out.add(s);
        }
        return out;
    }

    private static String controlKey(Step s) {
        return s.dir().arrow + " " + (s.p().type == VirtioVsock.TYPE_SEQPACKET ? "seqpacket " : "stream ")
                + VirtioVsock.opName(s.p().op) + " flags=" + s.p().flags
                + " buf_alloc=" + Integer.toUnsignedString(s.p().bufAlloc) + " fwd_cnt=" + Integer.toUnsignedString(s.p().fwdCnt);
    }

    /** Per direction, the data between consecutive control packets: byte totals (STREAM) or messages (SEQPACKET). */
    private static void compareData(Trace kernel, Trace engine, List<String> out) {
        for (Dir d : Dir.values()) {
            List<String> k = data(kernel, d);
            List<String> e = data(engine, d);
            if (!k.equals(e)) {
                out.add(d.arrow + " data between control packets: kernel " + k + ", engine " + e);
            }
        }
    }

    private static List<String> data(Trace t, Dir d) {
        List<String> segments = new ArrayList<>();
        StringBuilder segment = new StringBuilder();
        long bytes = 0;
        long message = 0;
        Step lastControl = null;
        for (Step s : t.steps()) {
            if (s.isControl()) {
                if (lastControl != null && lastControl.p().op == VirtioVsock.OP_RST && s.p().op == VirtioVsock.OP_RST
                        && lastControl.dir() == s.dir()) {
                    continue; // the repeated RST does not open a segment
                }
                segments.add(t.seqpacket() ? "[" + segment + "]" : Long.toString(bytes));
                segment.setLength(0);
                bytes = 0;
                lastControl = s;
            } else if (s.dir() == d && s.p().op == VirtioVsock.OP_RW) {
                bytes += Integer.toUnsignedLong(s.p().len);
                message += Integer.toUnsignedLong(s.p().len);
                if ((s.p().flags & VirtioVsock.SEQ_EOM) != 0) {
                    segment.append(segment.isEmpty() ? "" : " ").append(message)
                            .append((s.p().flags & VirtioVsock.SEQ_EOR) != 0 ? "+EOR" : "");
                    message = 0;
                }
            }
        }
        segments.add(t.seqpacket() ? "[" + segment + (message > 0 ? " unfinished " + message : "") + "]" : Long.toString(bytes));
        return segments;
    }

    private static TreeSet<String> ops(Trace t, Dir d) {
        TreeSet<String> ops = new TreeSet<>();
        for (Step s : t.steps()) {
            if (s.dir() == d) {
                ops.add(VirtioVsock.opName(s.p().op));
            }
        }
        return ops;
    }

    private static TreeSet<Long> bufAllocs(Trace t, Dir d) {
        TreeSet<Long> values = new TreeSet<>();
        for (Step s : t.steps()) {
            if (s.dir() == d && !s.isNoSocketReset()) {
                values.add(Integer.toUnsignedLong(s.p().bufAlloc));
            }
        }
        return values;
    }

    private static long count(Trace t, Dir d, int op) {
        return t.steps().stream().filter(s -> s.dir() == d && s.p().op == op).count();
    }

    private static Map<Dir, Long> counters() {
        Map<Dir, Long> m = new EnumMap<>(Dir.class);
        for (Dir d : Dir.values()) {
            m.put(d, 0L);
        }
        return m;
    }
}
