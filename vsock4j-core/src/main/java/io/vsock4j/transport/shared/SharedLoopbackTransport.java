package io.vsock4j.transport.shared;

import io.vsock4j.SocketType;
import io.vsock4j.VsockAddress;
import io.vsock4j.core.Machine;
import io.vsock4j.wire.Packet;
import io.vsock4j.spi.Errno;
import io.vsock4j.spi.PortRegistry;
import io.vsock4j.spi.TransportRole;
import io.vsock4j.transport.link.LinkTransport;
import io.vsock4j.transport.link.PacketLink;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The LOCAL transport (CID 1) of a machine shared by several processes: every packet goes over a
 * {@link PacketLink} to the machine's daemon ({@link SharedMachineDaemon}), which passes it to the
 * process that owns the destination port. The same object is the machine's {@link PortRegistry}, so a
 * bind here is a bind in every process of the machine.
 *
 * <p>Holds are counted here, per port; the daemon hears only of the first (RESERVE or ALLOC) and the
 * last (RELEASE). Both go down the link in the order they were decided, under {@code portLock}, so the
 * daemon's view of this process's ports is always a prefix of ours. When the daemon says another
 * process's ports are GONE (it died), connections to them get ECONNRESET; when the link to the daemon
 * goes down, every connection over this transport does, and connects and binds fail with ENODEV.
 * The link carries this process's H2G too ({@link #hostSide()}): packets between CID 2 and the guests
 * a device process serves on the machine.
 *
 * <p>When the JVM exits, this process's sockets close as the kernel closes an exiting process's
 * sockets ({@link #closeAtExit}): what they wrote and their SHUTDOWN reach their peers in the other
 * processes, which read to EOF, where a process that merely vanished (SIGKILL) leaves them ECONNRESET.
 *
 * <p>Threads: {@link #send}, {@link #hold} and {@link #release} from any thread, never blocking;
 * {@link #reserve} blocks the binding thread for the daemon's answer. Arriving packets and answers come
 * on the link's reader thread, which never takes {@code portLock} for long and never waits.
 */
public final class SharedLoopbackTransport extends LinkTransport implements PortRegistry {
    private final String name;
    private final Object portLock = new Object();
    /** This process's holds per port. Guarded by portLock. */
    private final Map<Integer, Hold> holds = new HashMap<>();
    private final Map<Integer, CompletableFuture<Integer>> requests = new ConcurrentHashMap<>();
    private final AtomicInteger nextRequest = new AtomicInteger(1);
    private final SharedHostTransport hostSide = new SharedHostTransport(this);
    /** Done once the daemon's first GUESTS frame (its first frame of all) has been handled. */
    private final CompletableFuture<Void> guestsKnown = new CompletableFuture<>();
    /** The shutdown hook of {@link #closeAtExit}; null before it and once the machine was closed. */
    private volatile Thread exitHook;

    /**
     * How long an exiting JVM waits for the daemon to take what its sockets still had to send. The
     * daemon reads at once; only a stopped or wedged one takes longer, and an exit should not wait on it
     * the full 8 s of a close.
     */
    static final Duration EXIT_FLUSH_TIMEOUT = Duration.ofSeconds(2);

    /** Holds on one port, and the daemon's answer to the RESERVE that took the first. */
    private static final class Hold {
        int count = 1;
        final CompletableFuture<Integer> granted;

        Hold(CompletableFuture<Integer> granted) {
            this.granted = granted;
        }
    }

    /** A transport over {@code link}, whose hello with the daemon is done. */
    SharedLoopbackTransport(PacketLink link, String name) {
        super(link);
        this.name = name;
    }

    @Override
    public TransportRole role() {
        return TransportRole.LOCAL;
    }

    /**
     * Makes the JVM's exit (its shutdown hooks: the end of main, System.exit, SIGTERM, SIGINT) close
     * {@code machine}, the machine on top of this transport. Its close ({@link Machine#close}, on a
     * machine with a port registry) closes the sockets as the kernel closes an exiting process's:
     * every connection's SHUTDOWN goes after what it wrote and the listeners' ports are released; this
     * transport's close then gives the link {@link #EXIT_FLUSH_TIMEOUT} to carry all of that to the
     * daemon (the daemon frees what ports are left as the process leaves). Without it, what still sat in
     * the link's queue would die with the JVM, and the daemon, seeing the process leave with ports held,
     * would reset its peers' connections. A shutdown hook of the application's own that still uses these
     * sockets races with this one, as hooks run in no set order; closing the machine first removes this
     * hook.
     */
    void closeAtExit(Machine machine) {
        Thread hook = Thread.ofPlatform().name("vsock4j exit: shared machine " + name).unstarted(machine::close);
        exitHook = hook;
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The hook {@link #closeAtExit} installed, while it is installed (tests). */
    Thread exitHook() {
        return exitHook;
    }

    @Override
    public void close() {
        Thread hook = exitHook;
        exitHook = null;
        if (hook == Thread.currentThread()) {
            // The JVM is exiting: the daemon gets a short while to take the last frames, not a close's 8 s.
            link().closeBy(System.nanoTime() + EXIT_FLUSH_TIMEOUT.toNanos());
            return;
        }
        if (hook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // The JVM is exiting: the hook runs (or ran) and closes what this close would.
            }
        }
        super.close();
    }

    /** This process's H2G transport on the machine: the host's side of the guests devices serve there. */
    SharedHostTransport hostSide() {
        return hostSide;
    }

    String machineName() {
        return name;
    }

    @Override
    public boolean supports(SocketType type) {
        return true;
    }

    // ------------------------------------------------------------------------------------------------
    // PortRegistry

    @Override
    public int reserve(int port) throws IOException {
        checkUp();
        if (port == VsockAddress.PORT_ANY) {
            return reserveAny();
        }
        CompletableFuture<Integer> answer;
        synchronized (portLock) {
            Hold h = holds.get(port);
            if (h != null) {
                h.count++;
                answer = h.granted;
            } else {
                answer = new CompletableFuture<>();
                holds.put(port, new Hold(answer));
                send(SharedWire.control(SharedWire.OP_RESERVE, port, newRequest(answer)));
            }
        }
        try {
            return await(answer, port);
        } catch (IOException e) {
            synchronized (portLock) {
                Hold h = holds.get(port);
                if (h != null && h.granted == answer && --h.count == 0) {
                    holds.remove(port); // refused: the daemon holds nothing for us to release
                }
            }
            throw e;
        }
    }

    /** PORT_ANY: the daemon picks a port no process holds, and it is ours from its answer on. */
    private int reserveAny() throws IOException {
        CompletableFuture<Integer> answer = new CompletableFuture<>();
        send(SharedWire.control(SharedWire.OP_ALLOC, 0, newRequest(answer)));
        int port = await(answer, VsockAddress.PORT_ANY);
        synchronized (portLock) {
            Hold h = holds.get(port);
            if (h == null) {
                holds.put(port, new Hold(answer));
            } else {
                h.count++; // a concurrent explicit bind of the same port got there first; the bind will say EADDRINUSE
            }
        }
        return port;
    }

    @Override
    public void hold(int port) {
        synchronized (portLock) {
            Hold h = holds.get(port);
            if (h != null) {
                h.count++;
                return;
            }
            // A connection on a port nobody here bound: claim it without waiting (request 0 has no waiter).
            holds.put(port, new Hold(CompletableFuture.completedFuture(port)));
            send(SharedWire.control(SharedWire.OP_RESERVE, port, 0));
        }
    }

    @Override
    public void release(int port) {
        synchronized (portLock) {
            Hold h = holds.get(port);
            if (h == null || --h.count > 0) {
                return;
            }
            holds.remove(port);
            if (!h.granted.isCompletedExceptionally()) {
                send(SharedWire.control(SharedWire.OP_RELEASE, port, 0));
            }
        }
    }

    private int newRequest(CompletableFuture<Integer> answer) {
        int id;
        do {
            id = nextRequest.getAndIncrement();
        } while (id == 0);
        requests.put(id, answer);
        String reason = downReason();
        if (reason != null && requests.remove(id) != null) {
            // The link went down after our check and may have failed the requests before this one joined.
            answer.completeExceptionally(Errno.ENODEV.exception("shared machine " + name + " is gone: " + reason));
        }
        return id;
    }

    private int await(CompletableFuture<Integer> answer, int port) throws IOException {
        return DaemonAnswer.await(answer, name, "a bind of port " + (port == VsockAddress.PORT_ANY ? "any" : Integer.toUnsignedString(port)));
    }

    private void checkUp() throws IOException {
        String reason = downReason();
        if (reason != null) {
            throw Errno.ENODEV.exception("shared machine " + name + " is gone: " + reason);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // From the daemon, on the link's reader thread.

    /** Control frames are ours; packets must be CID 1 to CID 1; anything else is dropped. */
    @Override
    protected void arrived(Packet p) {
        if (p.type == SharedWire.TYPE_CONTROL) {
            control(p);
        } else if (p.srcCid == VsockAddress.CID_LOCAL && p.dstCid == VsockAddress.CID_LOCAL) {
            deliver(p);
        } else if (p.dstCid == VsockAddress.CID_HOST) {
            hostSide.arrived(p); // from a guest: the daemon checked that its device serves it
        } else {
            drop();
        }
    }

    private void control(Packet p) {
        switch (p.op) {
            case SharedWire.OP_GRANTED -> granted(p.fwdCnt, p.dstPort);
            case SharedWire.OP_REFUSED -> {
                CompletableFuture<Integer> answer = requests.remove(p.fwdCnt);
                if (answer != null) {
                    Errno why = Errno.of(p.flags);
                    answer.completeExceptionally((why == null ? Errno.EADDRINUSE : why).exception("port "
                            + (p.dstPort == VsockAddress.PORT_ANY ? "any" : Integer.toUnsignedString(p.dstPort))
                            + " refused by shared machine " + name
                            + (why == Errno.EADDRINUSE ? ": another process holds it" : "")));
                }
            }
            case SharedWire.OP_GONE -> {
                for (int port : SharedWire.list(p)) {
                    receiver().portReset(this, VsockAddress.CID_LOCAL, port);
                }
            }
            case SharedWire.OP_GUESTS -> {
                hostSide.guests(SharedWire.list(p));
                guestsKnown.complete(null);
            }
            case SharedWire.OP_RESET -> hostSide.reset(p.dstPort);
            default -> drop();
        }
    }

    private void granted(int requestId, int port) {
        CompletableFuture<Integer> answer = requests.remove(requestId);
        if (answer != null && answer.complete(port)) {
            return;
        }
        // Nobody waits any more (timed out or interrupted): give the port back unless we hold it anyway.
        synchronized (portLock) {
            if (requestId != 0 && !holds.containsKey(port)) {
                send(SharedWire.control(SharedWire.OP_RELEASE, port, 0));
            }
        }
    }

    /**
     * Waits for the daemon's word on which guests are served, which it sends right after the hello: a
     * process that connects to a guest right after joining must not find it unknown. Call once started.
     */
    void awaitGuests() throws IOException {
        DaemonAnswer.await(guestsKnown, name, "which guests it has");
    }

    /** Fails the binds still waiting for the daemon; connections are reset next. */
    @Override
    protected void linkDown(String reason) {
        hostSide.linkDown();
        receiver().portSpaceLost(this, "shared machine " + name + " is gone: " + reason);
        guestsKnown.completeExceptionally(Errno.ENODEV.exception("shared machine " + name + " is gone: " + reason));
        for (Integer id : requests.keySet()) {
            CompletableFuture<Integer> answer = requests.remove(id);
            if (answer != null) {
                answer.completeExceptionally(Errno.ENODEV.exception("shared machine " + name + " is gone: " + reason));
            }
        }
    }

    @Override
    public String toString() {
        return "shared-loopback " + name + " (CID 1)";
    }
}
