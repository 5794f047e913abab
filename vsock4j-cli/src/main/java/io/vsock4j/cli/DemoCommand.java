package io.vsock4j.cli;

import io.vsock4j.machines.Machines;
import io.vsock4j.MessageInfo;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSeqpacketServerSocket;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.core.Machine;
import io.vsock4j.engine.Connection;
import io.vsock4j.engine.Credit;
import io.vsock4j.wire.Packet;
import io.vsock4j.wire.VirtioVsock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * {@code vsock demo}: a guided tour of vsock on the embedded Java loopback (CID 1). It listens, connects,
 * exchanges data, fills the receiver's buffer so the credit window closes and reopens, half-closes,
 * sends SEQPACKET messages, and shows a refused connect, printing the packets that the engine put on
 * the wire and what each step means.
 *
 * <p>Runs on its own machine, so nothing else in the JVM disturbs the packet trace. The sockets run on
 * this thread and one virtual thread; the loopback has no thread of its own and delivers on whichever
 * sending thread holds its delivery token (see LoopbackTransport), so the packet tap prints from those
 * two threads, and {@link #step}/{@link #say} share a lock with it to keep lines whole.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Walk through vsock on the Java loopback (CID 1), packet by packet, then nested machines L0/L1/L2.")
public final class DemoCommand implements Callable<Integer> {
    private static final int PORT = 5000;

    /** The root command, for --capture; null when the demo runs on its own (tests). */
    @picocli.CommandLine.ParentCommand
    VsockCommand root;

    @Option(names = "--quiet-packets", description = "Do not print every packet, only the story.")
    boolean quietPackets;

    @Option(names = "--loopback-only", description = "Skip the nested machines (L0, L1, L2).")
    boolean loopbackOnly;

    private PrintStream out = System.out;
    private volatile boolean showPackets = true;

    /** Runs the demo, printing to {@code printer}; returns the exit code. */
    public int run(PrintStream printer) throws Exception {
        this.out = printer;
        return call();
    }

    @Override
    public Integer call() throws Exception {
        try (Machine machine = Machines.loopback();
             ExecutorService peer = Executors.newVirtualThreadPerTaskExecutor()) {
            machine.addTap(this::printPacket);
            if (root != null) {
                root.capture(machine);
            }
            showPackets = !quietPackets;
            intro(machine);
            try (VsockServerSocket server = VsockServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, PORT))) {
                step("1. A server listens on port " + PORT + " of every CID this machine owns (any:" + PORT + ").");
                step("2. A client connects to CID 1 (local), port " + PORT + ": REQUEST out, RESPONSE back.");
                VsockSocket client = VsockSocket.connect(machine, VsockAddress.local(PORT));
                VsockSocket accepted = server.accept();
                waitQuiet();
                say("   client " + client.getLocalAddress() + " is connected to " + client.getRemoteAddress()
                        + "; the server sees it as " + accepted.getRemoteAddress() + ".");

                exchange(client, accepted);
                credit(machine, client, accepted, peer);
                halfClose(client, accepted);
                seqpacket(machine, peer);
                refused(machine);
            }
        }
        if (!loopbackOnly) {
            new NestedDemo(out, root).run();
        }
        say("");
        say("Done. Every byte above went through the virtio-vsock engine twice, once as sender and once as");
        say("receiver, as Linux runs both ends of a connection through virtio_transport_common.c.");
        return 0;
    }

    private void intro(Machine machine) {
        say("vsock4j demo: AF_VSOCK on the embedded Java loopback");
        StringBuilder roles = new StringBuilder();
        for (io.vsock4j.spi.TransportRole role : io.vsock4j.spi.TransportRole.values()) {
            io.vsock4j.spi.Transport t = machine.transport(role);
            roles.append(roles.isEmpty() ? "" : ", ").append(role).append(": ").append(t == null ? "none" : t);
        }
        say("Machine '" + machine.name() + "': local CID " + VsockAddress.cidToString(machine.localCid())
                + "; transports " + roles + ".");
        say("Packets are printed as: direction OP source -> destination, payload length, and the credit every");
        say("packet carries (buf_alloc = the sender's receive buffer, fwd_cnt = bytes its reader consumed).");
        say("");
    }

    private void exchange(VsockSocket client, VsockSocket accepted) throws IOException, InterruptedException {
        step("3. The client sends \"hello, vsock\"; the server reads it and answers \"hi\".");
        client.getOutputStream().write("hello, vsock".getBytes(StandardCharsets.UTF_8));
        byte[] buf = new byte[64];
        int n = accepted.getInputStream().read(buf);
        accepted.getOutputStream().write("hi".getBytes(StandardCharsets.UTF_8));
        int m = client.getInputStream().read(buf, n, 64 - n);
        waitQuiet();
        say("   server read \"" + new String(buf, 0, n, StandardCharsets.UTF_8) + "\", client read \""
                + new String(buf, n, m, StandardCharsets.UTF_8) + "\". The CREDIT_UPDATEs are each reader telling");
        say("   its peer that its queue is empty again, as Linux does when it falls under SO_RCVLOWAT.");
    }

    private void credit(Machine machine, VsockSocket client, VsockSocket accepted, ExecutorService peer) throws Exception {
        int total = 384 * 1024;
        step("4. Credit: the client writes " + total / 1024 + " KiB while the server does not read.");
        say("   The server's buffer is " + accepted.getOption(io.vsock4j.VsockOptions.BUFFER_SIZE) / 1024
                + " KiB, so the client may have at most that much unread in flight.");
        Future<?> writer = peer.submit(() -> {
            client.getOutputStream().write(new byte[total]);
            return null;
        });
        for (int i = 0; i < 500 && accepted.available() < 256 * 1024; i++) {
            Thread.sleep(2);
        }
        Connection sender = Machine.connectionOf(client.handle());
        Connection receiver = Machine.connectionOf(accepted.handle());
        say("   writer still blocked: " + !writer.isDone());
        say("   sender:   " + describe(sender.credit()) );
        say("   receiver: queued " + receiver.queuedBytes() / 1024 + " KiB of " + receiver.credit().bufAlloc() / 1024
                + " KiB -> the window is closed, the writer waits for credit.");
        step("   The server now reads in 64 KiB steps. Linux stays quiet while the sender still believes it has");
        say("   at least one packet (64 KiB) of room, so the CREDIT_UPDATE that reopens the window comes late:");
        showPackets = !quietPackets;
        int read = 0;
        while (read < total) {
            byte[] step = accepted.getInputStream().readNBytes(Math.min(64 * 1024, total - read));
            read += step.length;
            waitQuiet();
            say("   server has read " + read / 1024 + " KiB; sender: " + describe(sender.credit()));
        }
        writer.get(10, TimeUnit.SECONDS);
        waitQuiet();
        say("   the writer finished: all " + total / 1024 + " KiB delivered, never more than 256 KiB unread.");
    }

    private static String describe(Credit.Snapshot c) {
        return "tx_cnt " + Integer.toUnsignedString(c.txCnt()) + ", peer fwd_cnt " + Integer.toUnsignedString(c.peerFwdCnt())
                + " -> in flight " + Integer.toUnsignedString(c.txCnt() - c.peerFwdCnt()) + " bytes, space left "
                + c.txSpace() + " bytes";
    }

    private void halfClose(VsockSocket client, VsockSocket accepted) throws IOException, InterruptedException {
        step("5. Half-close: the client shuts its output (SHUTDOWN SEND); the server reads EOF but can still write.");
        client.shutdownOutput();
        InputStream in = accepted.getInputStream();
        int eof = in.read();
        OutputStream back = accepted.getOutputStream();
        back.write("still here".getBytes(StandardCharsets.UTF_8));
        byte[] buf = new byte[32];
        int n = client.getInputStream().read(buf);
        waitQuiet();
        say("   server read " + eof + " (EOF); client still received \"" + new String(buf, 0, n, StandardCharsets.UTF_8) + "\".");
        step("6. Close: each side sends SHUTDOWN(RCV|SEND); the last one to hear from its peer answers RST.");
        client.close();
        in.read();
        accepted.close();
        waitQuiet();
    }

    private void seqpacket(Machine machine, ExecutorService peer) throws Exception {
        step("7. SEQPACKET keeps message boundaries: three sends, three receives; the last one marked MSG_EOR.");
        try (VsockSeqpacketServerSocket server = VsockSeqpacketServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, PORT + 1));
             VsockSeqpacketSocket client = VsockSeqpacketSocket.connect(machine, VsockAddress.local(PORT + 1));
             VsockSeqpacketSocket accepted = server.accept()) {
            client.send("one".getBytes(StandardCharsets.UTF_8));
            client.send("two two".getBytes(StandardCharsets.UTF_8));
            byte[] last = "three three three".getBytes(StandardCharsets.UTF_8);
            client.send(last, 0, last.length, io.vsock4j.MessageFlags.MSG_EOR);
            MessageInfo info = new MessageInfo();
            byte[] buf = new byte[8];
            for (int i = 0; i < 3; i++) {
                int n = accepted.receive(buf, 0, buf.length, 0, info);
                waitQuiet();
                say("   received \"" + new String(buf, 0, n, StandardCharsets.UTF_8) + "\" (" + info.length() + " bytes"
                        + (info.truncated() ? ", cut to the 8-byte buffer: MSG_TRUNC" : "")
                        + (info.endOfRecord() ? ", MSG_EOR" : "") + ")");
            }
        }
        waitQuiet();
    }

    private void refused(Machine machine) throws IOException, InterruptedException {
        step("8. Nobody listens on port 6000: the connect is answered with RST at once.");
        try (VsockSocket s = VsockSocket.open(machine)) {
            s.connect(VsockAddress.local(6000));
            say("   unexpectedly connected");
        } catch (ConnectException e) {
            waitQuiet();
            say("   " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private void printPacket(boolean outbound, io.vsock4j.spi.Transport transport, Packet p) {
        if (!outbound || !showPackets) {
            return; // on the loopback every packet is also received: print each once
        }
        String detail = switch (p.op) {
            case VirtioVsock.OP_SHUTDOWN -> " flags=" + shutdownFlags(p.flags);
            case VirtioVsock.OP_RW -> " len=" + p.len + (p.flags != 0 ? " flags=" + seqFlags(p.flags) : "");
            default -> "";
        };
        synchronized (this) {
            out.printf("     > %-14s %s:%s -> %s:%s%s  buf_alloc=%d fwd_cnt=%d%n", VirtioVsock.opName(p.op),
                    Long.toUnsignedString(p.srcCid), Integer.toUnsignedString(p.srcPort),
                    Long.toUnsignedString(p.dstCid), Integer.toUnsignedString(p.dstPort), detail,
                    Integer.toUnsignedLong(p.bufAlloc), Integer.toUnsignedLong(p.fwdCnt));
        }
    }

    private static String shutdownFlags(int flags) {
        return ((flags & VirtioVsock.SHUTDOWN_RCV) != 0 ? "RCV" : "")
                + (flags == VirtioVsock.SHUTDOWN_BOTH ? "|" : "")
                + ((flags & VirtioVsock.SHUTDOWN_SEND) != 0 ? "SEND" : "");
    }

    private static String seqFlags(int flags) {
        return ((flags & VirtioVsock.SEQ_EOM) != 0 ? "EOM" : "") + ((flags & VirtioVsock.SEQ_EOR) != 0 ? "|EOR" : "");
    }

    /**
     * Gives the virtual thread, and whichever thread holds the loopback's delivery token, time to finish
     * sending and delivering what is in flight, so packets print before the words about them. (A demo's
     * pacing, not a synchronisation: the trace the test checks does not depend on it.)
     */
    private static void waitQuiet() throws InterruptedException {
        Thread.sleep(30);
    }

    private synchronized void step(String text) {
        out.println();
        out.println(text);
    }

    private synchronized void say(String text) {
        out.println(text);
    }
}
