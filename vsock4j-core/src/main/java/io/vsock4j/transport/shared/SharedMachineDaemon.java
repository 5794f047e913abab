package io.vsock4j.transport.shared;

import io.vsock4j.VsockAddress;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import io.vsock4j.spi.Errno;
import io.vsock4j.transport.link.PacketLink;
import io.vsock4j.transport.link.UnixAcceptor;
import io.vsock4j.transport.link.UnixLink;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The daemon of a shared machine: a packet switch and the port table for every process that names the
 * machine. Each process runs its own engine; the daemon holds which process owns which port of CID 1
 * and passes each packet to the owner of its destination port. It is what the one kernel is to the
 * processes of a host: the place where ports are unique.
 *
 * <ul>
 *   <li>A packet to a port nobody owns is answered with RST, addresses swapped, as the kernel's
 *       reset_no_sock; an RST is never answered. A packet whose source port is not its sender's is
 *       dropped (RSTs excepted: a process answers strays from ports it has just released).</li>
 *   <li>RESERVE takes a port if it is free or already the sender's; ALLOC picks a free one above the
 *       reserved range, from a moving start as af_vsock.c does; RELEASE frees one.</li>
 *   <li>A process whose connection closes (it exited or was killed) loses all its ports at once, and
 *       every other process is told they are GONE, so its connections to them reset instead of hanging.</li>
 *   <li>The machine's H2G: a device process (vsock device) SERVEs the CIDs of its guests and carries
 *       their packets. A packet from the host (CID 2, a process's own port) to a served CID goes to that
 *       device; a guest's packet to CID 2, from the device that serves the guest, goes to the owner of
 *       its destination port (ports are the machine's, whatever the CID, as in the kernel). Every
 *       process hears the served CIDs (GUESTS) when it joins and whenever they change, and a device's
 *       RESET of one guest (its VMM left) is passed to every process.</li>
 *   <li>Only this user gets in: the directory is private ({@link Rendezvous}), the socket 0600, and the
 *       peer's credentials (SO_PEERCRED) must name the directory's owner.</li>
 *   <li>One daemon per directory: it holds {@value Rendezvous#LOCK} locked for its life. It exits by
 *       itself once no process has been connected for the idle time.</li>
 * </ul>
 *
 * <p>Threads: a {@link UnixAcceptor}: one acceptor, one virtual thread per hello; two threads per process's link (its reader
 * runs {@link #packet} and {@link #left} for that process). Tables are guarded by {@code lock}; a link's
 * send never waits for its peer (it writes what the socket takes at once and queues the rest), so a
 * process that is slow to read holds up neither the lock nor the reader passing it a packet.
 */
public final class SharedMachineDaemon {
    /** Ports tried by one ALLOC (the daemon knows every owner, so this only bounds a full table). */
    private static final int MAX_ALLOC_TRIES = 4096;
    /** How long a second daemon waits for the first one to finish exiting. */
    private static final Duration LOCK_WAIT = Duration.ofSeconds(10);

    private final Path dir;
    private final long idleNanos;
    private final String user;
    private final Object lock = new Object();
    /** Guarded by lock. */
    private final Map<Integer, Client> owners = new HashMap<>();
    /** Guarded by lock. */
    private final Set<Client> clients = new HashSet<>();
    /** Which process carries each guest CID's packets. Guarded by lock. */
    private final Map<Integer, Client> guestServers = new HashMap<>();
    /**
     * When the last client left, or the daemon began serving (System.nanoTime), valid while clients is
     * empty. Guarded by lock.
     */
    private long idleSince;
    /** Guarded by lock. */
    private boolean closing;
    /** Where the next ALLOC search starts. Guarded by lock. */
    private int nextPort = VsockAddress.LAST_RESERVED_PORT + 1 + ThreadLocalRandom.current().nextInt(0x3FFF_FFFF);
    /** Guarded by lock. */
    private int nextClientId = 1;
    private ServerSocketChannel server;

    /** One connected process. */
    private static final class Client {
        final int id;
        final PacketLink link;
        /** Guarded by the daemon's lock. */
        final Set<Integer> ports = new HashSet<>();
        /** The guest CIDs it serves. Guarded by the daemon's lock. */
        final Set<Integer> guests = new HashSet<>();

        Client(int id, PacketLink link) {
            this.id = id;
            this.link = link;
        }
    }

    private SharedMachineDaemon(Path dir, Duration idle) throws IOException {
        this.dir = dir;
        this.idleNanos = idle.toNanos();
        this.user = Files.getOwner(dir).getName();
    }

    /** {@code SharedMachineDaemon DIR [IDLE_MILLIS]}: serves the shared machine whose directory is DIR. */
    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: SharedMachineDaemon RENDEZVOUS_DIR [IDLE_EXIT_MILLIS]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Duration idle = Duration.ofMillis(args.length > 1 ? Long.parseLong(args[1]) : SharedMachine.DEFAULT_IDLE_EXIT.toMillis());
        Rendezvous.checkPrivate(dir);
        System.exit(new SharedMachineDaemon(dir, idle).run());
    }

    /** Runs until idle; the exit status. */
    private int run() throws IOException, InterruptedException {
        try (FileChannel lockFile = FileChannel.open(dir.resolve(Rendezvous.LOCK), Set.of(StandardOpenOption.CREATE,
                StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            FileLock held = acquire(lockFile);
            if (held == null) {
                return 0; // another daemon serves this machine
            }
            Path socket = dir.resolve(Rendezvous.SOCKET);
            Files.deleteIfExists(socket); // a dead daemon's: we hold the lock, so no live one owns it
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            Path pid = dir.resolve(Rendezvous.PID);
            Files.deleteIfExists(pid);
            Files.createFile(pid, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(pid, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
            log("serving " + socket + " for user " + user);
            synchronized (lock) {
                // The idle time counts from here, not from the JVM's start: on a loaded machine the
                // start-up alone could use it up before the process that started us can connect.
                idleSince = System.nanoTime();
            }
            UnixAcceptor.start(server, "vsock4j-shared", this::admit, refused -> log("refused a process: " + refused.getMessage()));
            waitUntilIdle();
            server.close();
            Files.deleteIfExists(socket);
            Files.deleteIfExists(pid);
            log("no process for " + Duration.ofNanos(idleNanos).toMillis() + " ms: exiting");
            return 0;
        }
    }

    /**
     * The daemon lock, or null when a live daemon holds it. A daemon that holds it but does not answer
     * is on its way out: wait for it, as long as {@link #LOCK_WAIT}.
     */
    private FileLock acquire(FileChannel lockFile) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + LOCK_WAIT.toNanos();
        while (true) {
            FileLock l = lockFile.tryLock();
            if (l != null) {
                return l;
            }
            if (SharedMachine.daemonAnswers(dir)) {
                log("another daemon serves " + dir + ": exiting");
                return null;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("daemon lock " + dir.resolve(Rendezvous.LOCK) + " held by a daemon that does not answer");
            }
            Thread.sleep(50);
        }
    }

    private void waitUntilIdle() throws InterruptedException {
        synchronized (lock) {
            while (true) {
                if (clients.isEmpty()) {
                    long left = idleNanos - (System.nanoTime() - idleSince);
                    if (left <= 0) {
                        closing = true; // from here on, a process still in its hello is turned away
                        return;
                    }
                    lock.wait(Math.max(1, left / 1_000_000));
                } else {
                    lock.wait();
                }
            }
        }
    }

    /** Checks the peer and the hello, then switches its packets; throws (the acceptor disconnects it) if it fails. */
    private void admit(SocketChannel ch) throws IOException {
        UnixDomainPrincipal peer = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
        if (!peer.user().getName().equals(user)) {
            throw Errno.EACCES.exception("process of user " + peer.user().getName() + " refused (machine of " + user + ")");
        }
        SharedWire.readHello(ch);
        Client c;
        synchronized (lock) {
            if (closing) {
                throw Errno.ECONNREFUSED.exception("daemon is exiting");
            }
            int id = nextClientId++;
            c = new Client(id, UnixLink.over(ch, "shared-daemon-" + id));
            SharedWire.writeHello(ch); // 8 bytes into an empty socket buffer: does not block
            clients.add(c);
            c.link.send(SharedWire.guests(servedGuests())); // queued; the link writes it once started
            lock.notifyAll();
        }
        log("process " + c.id + " joined");
        c.link.start(new PacketLink.Receiver() {
            @Override
            public void packet(Packet p) {
                SharedMachineDaemon.this.packet(c, p);
            }

            @Override
            public void down(String reason) {
                left(c, reason);
            }
        });
    }

    // ------------------------------------------------------------------------------------------------
    // The switch, on each process's reader thread.

    private void packet(Client from, Packet p) {
        if (p.type == SharedWire.TYPE_CONTROL) {
            control(from, p);
            return;
        }
        Client to;
        synchronized (lock) {
            if (p.srcCid == VsockAddress.CID_LOCAL && p.dstCid == VsockAddress.CID_LOCAL
                    || p.srcCid == VsockAddress.CID_HOST && (p.dstCid >>> 32) == 0
                    && Integer.compareUnsigned((int) p.dstCid, VsockAddress.CID_HOST) > 0) {
                // From a process's own port, to CID 1 or to a guest.
                if (p.op != VirtioVsock.OP_RST && owners.get(p.srcPort) != from) {
                    return;
                }
                to = p.dstCid == VsockAddress.CID_LOCAL ? owners.get(p.dstPort) : guestServers.get((int) p.dstCid);
            } else if (p.dstCid == VsockAddress.CID_HOST && (p.srcCid >>> 32) == 0 && from.guests.contains((int) p.srcCid)) {
                to = owners.get(p.dstPort); // from a guest, by the device that serves it
            } else {
                return; // nobody may send this here
            }
        }
        if (to != null) {
            to.link.send(p);
        } else if (p.op != VirtioVsock.OP_RST) {
            from.link.send(Packet.resetFor(p)); // no such port, or a guest nobody serves now
        }
    }

    private void control(Client from, Packet p) {
        int port = p.dstPort;
        int request = p.fwdCnt;
        synchronized (lock) {
            switch (p.op) {
                case SharedWire.OP_RESERVE -> {
                    Client owner = owners.get(port);
                    if (port == VsockAddress.PORT_ANY) {
                        from.link.send(SharedWire.refused(port, request, Errno.EINVAL));
                    } else if (owner == null || owner == from) {
                        take(from, port);
                        from.link.send(SharedWire.control(SharedWire.OP_GRANTED, port, request));
                    } else {
                        from.link.send(SharedWire.refused(port, request, Errno.EADDRINUSE));
                    }
                }
                case SharedWire.OP_ALLOC -> {
                    int free = freePort();
                    if (free == VsockAddress.PORT_ANY) {
                        from.link.send(SharedWire.refused(free, request, Errno.EADDRNOTAVAIL));
                    } else {
                        take(from, free);
                        from.link.send(SharedWire.control(SharedWire.OP_GRANTED, free, request));
                    }
                }
                case SharedWire.OP_RELEASE -> {
                    if (owners.remove(port, from)) {
                        from.ports.remove(port);
                    }
                }
                case SharedWire.OP_SERVE -> {
                    int cid = port;
                    Client server = guestServers.get(cid);
                    if (Integer.compareUnsigned(cid, VsockAddress.CID_HOST) <= 0 || cid == VsockAddress.CID_ANY) {
                        from.link.send(SharedWire.refused(cid, request, Errno.EINVAL));
                    } else if (server != null && server != from) {
                        from.link.send(SharedWire.refused(cid, request, Errno.EADDRINUSE));
                    } else {
                        guestServers.put(cid, from);
                        from.guests.add(cid);
                        from.link.send(SharedWire.control(SharedWire.OP_GRANTED, cid, request));
                        tellGuests();
                    }
                }
                case SharedWire.OP_RESET -> {
                    if (from.guests.contains(port)) {
                        for (Client other : clients) {
                            if (other != from) {
                                other.link.send(SharedWire.control(SharedWire.OP_RESET, port, 0));
                            }
                        }
                    }
                }
                default -> {
                    // Not a request; ignore it, as a switch ignores what it does not understand.
                }
            }
        }
    }

    /** The served guest CIDs, ascending. Under lock. */
    private int[] servedGuests() {
        return guestServers.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    /** Every process hears the new set of guests. Under lock. */
    private void tellGuests() {
        int[] cids = servedGuests();
        for (Client c : clients) {
            c.link.send(SharedWire.guests(cids));
        }
    }

    /** Under lock. */
    private void take(Client c, int port) {
        owners.put(port, c);
        c.ports.add(port);
    }

    /** A port no process owns, above the reserved range; PORT_ANY when none was found. Under lock. */
    private int freePort() {
        for (int i = 0; i < MAX_ALLOC_TRIES; i++) {
            if (nextPort == VsockAddress.PORT_ANY || Integer.compareUnsigned(nextPort, VsockAddress.LAST_RESERVED_PORT) <= 0) {
                nextPort = VsockAddress.LAST_RESERVED_PORT + 1;
            }
            int candidate = nextPort++;
            if (!owners.containsKey(candidate)) {
                return candidate;
            }
        }
        return VsockAddress.PORT_ANY;
    }

    /** The process is gone: its ports are free at once, and the others hear which ones. */
    private void left(Client c, String reason) {
        int[] freed;
        synchronized (lock) {
            clients.remove(c);
            freed = c.ports.stream().mapToInt(Integer::intValue).toArray();
            for (int port : freed) {
                owners.remove(port, c);
            }
            c.ports.clear();
            if (!c.guests.isEmpty()) {
                guestServers.keySet().removeAll(c.guests);
                c.guests.clear();
                tellGuests(); // those guests are unreachable now, and their connections reset
            }
            if (freed.length > 0) {
                for (Client other : clients) {
                    for (int i = 0; i < freed.length; i += SharedWire.MAX_PORTS_PER_GONE) {
                        other.link.send(SharedWire.gone(freed, i, Math.min(freed.length, i + SharedWire.MAX_PORTS_PER_GONE)));
                    }
                }
            }
            if (clients.isEmpty()) {
                idleSince = System.nanoTime();
                lock.notifyAll();
            }
        }
        log("process " + c.id + " left (" + reason + "); freed " + freed.length + " port(s)");
    }

    private static void log(String message) {
        System.out.println(Instant.now() + " vsock4j shared machine daemon " + ProcessHandle.current().pid() + ": " + message);
    }
}
