package io.vsock4j.transport.shared;

import io.vsock4j.VsockAddress;
import io.vsock4j.spi.Errno;
import io.vsock4j.spi.Transport;
import io.vsock4j.transport.link.HostTransport;
import io.vsock4j.transport.link.PacketLink;
import io.vsock4j.transport.link.UnixLink;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Puts the guests of an H2G {@link HostTransport} (a device's, {@code vsock device}) on a shared
 * machine, so that every process of the machine is their host: {@code nc 3 5000} in any shell reaches
 * guest 3, and a guest's connect to (2, P) reaches whichever process listens on P. The relay is a
 * process of the machine that owns no port: it SERVEs its guests' CIDs, and passes packets between the
 * daemon and the guests without looking into them; the daemon routes them by CID and port, and the
 * HostTransport keeps its checks on what guests send (their own source CID, siblings by group).
 *
 * <p>A guest that is not running (its VMM has not connected, or left) is answered with RST; when a
 * VMM leaves, the relay tells the machine (RESET) and the processes reset their connections to that
 * guest. When a host process dies, the daemon says its ports are GONE, and the relay resets the guests'
 * ends of the connections it carried to those ports ({@link GuestConnections}), as the kernel resets a
 * dead process's sockets.
 *
 * <p>Threads: {@link #start} and {@link #close} from any thread; packets move on the link's threads and
 * the HostTransport's guests' threads.
 */
public final class GuestRelay implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GuestRelay.class.getName());
    /** The longest pause between two tries to rejoin a machine whose daemon died. */
    private static final Duration MAX_REJOIN_PAUSE = Duration.ofSeconds(5);

    private final Path dir;
    private final Duration daemonIdleExit;
    private final String machineName;
    private final HostTransport h2g;
    private final Map<Integer, CompletableFuture<Integer>> requests = new ConcurrentHashMap<>();
    private final AtomicInteger nextRequest = new AtomicInteger(1);
    private final List<Integer> served;
    private final GuestConnections connections = new GuestConnections();
    /** The link to the machine's daemon; a new one when a dead daemon's successor was joined. */
    private volatile UnixLink link;
    /** Why the current link is not serving (down, or its SERVEs not yet granted); null while it is. */
    private volatile String downReason = "not joined yet";
    private volatile boolean closed;
    /** Whether a rejoin thread runs: one at a time, though its own failed tries take links down too. */
    private final AtomicBoolean rejoining = new AtomicBoolean();

    private GuestRelay(Path dir, Duration daemonIdleExit, HostTransport h2g, Collection<Integer> cids) {
        this.dir = dir;
        this.daemonIdleExit = daemonIdleExit;
        this.machineName = dir.getFileName().toString();
        this.h2g = h2g;
        this.served = List.copyOf(cids);
    }

    /**
     * Joins the user's shared machine {@code machineName} (starting its daemon if needed) as the carrier
     * of {@code guestCids}, whose devices run on {@code h2g}; {@code h2g} must not be started (this
     * starts it, in place of a machine). If the machine's daemon dies, the relay resets the guests'
     * connections to the host and joins the machine again (starting a fresh daemon) until it is closed.
     *
     * @throws IOException EADDRINUSE when another process already serves one of the CIDs, EINVAL for a
     *     CID that is not a guest's, ENODEV when no daemon answers
     */
    public static GuestRelay start(String machineName, HostTransport h2g, Collection<Integer> guestCids) throws IOException {
        return start(Rendezvous.forMachine(machineName), SharedMachine.DEFAULT_IDLE_EXIT, h2g, guestCids);
    }

    /** As {@link #start(String, HostTransport, Collection)}, for the machine whose rendezvous is {@code dir}. */
    public static GuestRelay start(Path dir, Duration daemonIdleExit, HostTransport h2g, Collection<Integer> guestCids)
            throws IOException {
        Rendezvous.checkPrivate(dir);
        GuestRelay relay = new GuestRelay(dir, daemonIdleExit, h2g, guestCids);
        try {
            relay.carryGuests();
            relay.attach(SharedMachine.join(dir, daemonIdleExit));
            return relay;
        } catch (IOException | RuntimeException e) {
            relay.close();
            throw e;
        }
    }

    /** The guests' side: their packets to CID 2 go to the daemon, and their VMMs' departures are told. */
    private void carryGuests() {
        h2g.start(new Transport.PacketReceiver() {
            @Override
            public void receive(Transport from, Packet packet) {
                if (downReason != null) {
                    if (packet.op != VirtioVsock.OP_RST) {
                        h2g.send(Packet.resetFor(packet)); // no machine to take it now: refused, not left hanging
                    }
                    return;
                }
                connections.fromGuest(packet);
                link.send(packet); // a guest's packet to CID 2: the daemon finds the port's owner
            }

            @Override
            public void transportReset(Transport from, int remoteCid) {
                connections.forgetGuest(remoteCid);
                UnixLink l = link;
                for (int cid : served) {
                    if (l != null && (remoteCid == VsockAddress.CID_ANY || remoteCid == cid)) {
                        l.send(SharedWire.control(SharedWire.OP_RESET, cid, 0));
                    }
                }
            }
        });
    }

    /** Starts {@code l}, the link to a daemon, and serves every guest CID on it. */
    private void attach(UnixLink l) throws IOException {
        link = l;
        l.start(new PacketLink.Receiver() {
            @Override
            public void packet(Packet p) {
                fromMachine(p);
            }

            @Override
            public void down(String reason) {
                linkDown(l, reason);
            }
        });
        for (int cid : served) {
            CompletableFuture<Integer> answer = new CompletableFuture<>();
            int id = nextRequest.getAndIncrement();
            requests.put(id, answer);
            l.send(SharedWire.control(SharedWire.OP_SERVE, cid, id));
            DaemonAnswer.await(answer, machineName, "for guest CID " + VsockAddress.cidToString(cid));
        }
        downReason = null;
    }

    /** The daemon is gone: the guests' connections to the host go with it, and the relay joins again. */
    private void linkDown(UnixLink l, String reason) {
        if (l != link) {
            return;
        }
        downReason = reason;
        for (CompletableFuture<Integer> answer : requests.values()) {
            answer.completeExceptionally(Errno.ENODEV.exception("shared machine " + machineName + " is gone: " + reason));
        }
        if (closed) {
            return;
        }
        for (Packet reset : connections.resetsForAll()) {
            h2g.send(reset); // the host ends died with the daemon's links
        }
        if (rejoining.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "the guests' link to shared machine " + machineName + " is down ("
                    + reason + "); joining it again for guests " + served);
            Thread.ofPlatform().daemon().name("vsock4j-relay-rejoin-" + machineName).start(this::rejoin);
        }
    }

    /** Joins the machine again (a fresh daemon), pausing longer after each failure, until it works or the relay closes. */
    private void rejoin() {
        try {
            rejoinUntilDone();
        } finally {
            rejoining.set(false);
        }
    }

    private void rejoinUntilDone() {
        long pauseMillis = 100;
        while (!closed) {
            try {
                UnixLink l = SharedMachine.join(dir, daemonIdleExit);
                if (closed) {
                    l.close();
                    return;
                }
                attach(l);
                LOG.log(System.Logger.Level.INFO, "guests " + served + " are on shared machine " + machineName + " again");
                return;
            } catch (IOException e) {
                UnixLink l = link;
                if (l != null) {
                    l.close(); // a half-made attach: its SERVE was refused or not answered
                }
                LOG.log(System.Logger.Level.DEBUG, "joining shared machine " + machineName + " again failed: " + e.getMessage());
            }
            try {
                Thread.sleep(pauseMillis);
            } catch (InterruptedException e) {
                return;
            }
            pauseMillis = Math.min(pauseMillis * 2, MAX_REJOIN_PAUSE.toMillis());
        }
    }

    /** From the daemon, on the link's reader thread. */
    private void fromMachine(Packet p) {
        if (p.type == SharedWire.TYPE_CONTROL) {
            CompletableFuture<Integer> answer = p.op == SharedWire.OP_GRANTED || p.op == SharedWire.OP_REFUSED
                    ? requests.remove(p.fwdCnt) : null;
            if (p.op == SharedWire.OP_GONE) {
                for (Packet reset : connections.resetsForGone(SharedWire.list(p))) {
                    h2g.send(reset); // to a guest that is gone already, dropped
                }
            }
            if (answer == null) {
                return; // GUESTS: the host's business, not the guests'
            }
            if (p.op == SharedWire.OP_GRANTED) {
                answer.complete(p.dstPort);
            } else {
                Errno why = Errno.of(p.flags);
                answer.completeExceptionally((why == null ? Errno.EADDRINUSE : why).exception("guest CID "
                        + VsockAddress.cidToString(p.dstPort) + " refused by shared machine " + machineName
                        + (why == Errno.EADDRINUSE ? ": another device process serves it" : "")));
            }
            return;
        }
        // The daemon sends only packets from CID 2 to a CID served here.
        if ((p.dstCid >>> 32) != 0 || !h2g.reaches((int) p.dstCid)) {
            if (p.op != VirtioVsock.OP_RST) {
                link.send(Packet.resetFor(p)); // served here, but its VMM is not connected
            }
            return;
        }
        connections.toGuest(p);
        h2g.send(p);
    }

    /** Connections carried now (tests check that ended ones are forgotten). */
    int connectionCount() {
        return connections.size();
    }

    /** The shared machine's name. */
    public String machineName() {
        return machineName;
    }

    /** Why the link to the machine went down, or null while it is up. */
    public String downReason() {
        return downReason;
    }

    /** Leaves the machine: its processes lose the guests (their connections reset). */
    @Override
    public void close() {
        closed = true;
        UnixLink l = link;
        if (l != null) {
            l.close();
        }
    }

    @Override
    public String toString() {
        return "guests " + served + " on shared machine " + machineName;
    }
}
