package io.vsock4j.cli;

import io.vsock4j.VsockAddress;
import io.vsock4j.core.Routing;
import io.vsock4j.spi.TransportRole;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.io.PrintStream;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code vsock info}: the machine's local CID, which transport fills each slot, and where a connection
 * to CIDs 1, 2 and 3 would go by Linux's routing rules ({@link Routing}). Sends nothing. Main thread.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the local CID, the transport in each slot and where CIDs 1, 2 and 3 would go.")
public final class InfoCommand implements Callable<Integer> {
    /** The CIDs whose route is spelled out: loopback, host, the first guest. */
    private static final int[] EXAMPLE_CIDS = {VsockAddress.CID_LOCAL, VsockAddress.CID_HOST, VsockAddress.CID_FIRST_GUEST};

    @ParentCommand
    VsockCommand root;

    @Override
    public Integer call() {
        MachineView view = MachineView.of(root.provider());
        PrintStream out = root.stdio().text();
        out.println("transport:  " + root.transport().label() + ", " + view.provider());
        out.println("local CID:  " + MachineView.cidWords(view.localCid()));
        if (view.slots() == null) {
            out.println("slots:      unknown for this provider; routes cannot be predicted");
            return VsockCommand.EXIT_OK;
        }
        out.println("slots:");
        for (TransportRole role : TransportRole.values()) {
            String name = view.transports().get(role);
            out.printf("  %-5s %-16s %s%n", role, "(" + MachineView.roleWords(role) + ")", name == null ? "empty" : name);
        }
        out.println("routes (connect or accept, STREAM and SEQPACKET):");
        for (int cid : EXAMPLE_CIDS) {
            out.println("  CID " + padded(MachineView.cidWords(cid)) + route(view, cid));
        }
        out.println("bind:       CIDs any" + bindable(view.slots()));
        return VsockCommand.EXIT_OK;
    }

    private static String padded(String cid) {
        return String.format("%-12s", cid + ":");
    }

    /** Where a connection to {@code cid} goes, in words. */
    static String route(MachineView view, int cid) {
        TransportRole role = Routing.connectRole(view.slots(), cid, 0);
        String name = view.transports().get(role);
        if (name == null) {
            return role + " slot, which is empty: connect fails with ENODEV";
        }
        String where = role == TransportRole.LOCAL ? "stays on this machine"
                : role == TransportRole.G2H ? "goes out to the host" : "goes to the guest with that CID";
        return role + " via " + name + ", " + where;
    }

    /** The CIDs a socket may bind here, ANY first. */
    private static String bindable(Routing.Slots s) {
        Set<Integer> cids = new LinkedHashSet<>();
        for (int cid : new int[] {VsockAddress.CID_LOCAL, VsockAddress.CID_HOST, s.g2hCid()}) {
            if (cid != VsockAddress.CID_ANY && Routing.canBind(s, cid)) {
                cids.add(cid);
            }
        }
        StringBuilder b = new StringBuilder();
        for (int cid : cids) {
            b.append(", ").append(Integer.toUnsignedString(cid));
        }
        return b.toString();
    }
}
