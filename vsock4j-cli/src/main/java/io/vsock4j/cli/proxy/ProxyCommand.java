package io.vsock4j.cli.proxy;

import io.vsock4j.VsockAddress;
import io.vsock4j.cli.CliFailure;
import io.vsock4j.cli.Converters;
import io.vsock4j.cli.VsockCommand;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code vsock proxy}: vsock to TCP in the shape of AWS Nitro Enclaves' vsock-proxy (same arguments, same
 * YAML allowlist, so it can stand in for it), and TCP to vsock with {@code --tcp-listen}. Checks the
 * options, refuses a destination the allowlist does not admit before it listens, then runs a {@link Proxy}
 * until it is killed (or its thread interrupted). Main thread.
 */
@Command(name = "proxy", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Relay connections between vsock and TCP, with half-close and backpressure.",
                "vsock to TCP, as AWS Nitro Enclaves' vsock-proxy: listen on vsock LOCAL_PORT,",
                "connect each client to REMOTE_HOST:REMOTE_PORT. The --config allowlist must admit",
                "it: checked at start-up, and for every connection after resolving the name again.",
                "TCP to vsock: --tcp-listen [ADDR:]PORT --to CID:PORT."},
        footer = {"", "Examples:",
                "  vsock proxy --config allow.yaml 8000 kms.us-east-1.amazonaws.com 443",
                "  vsock proxy --tcp-listen 8080 --to 3:80          # 127.0.0.1:8080 to CID 3 port 80",
                "  vsock proxy --tcp-listen 0.0.0.0:8080 --to 3:80  # on every interface",
                "", "allow.yaml (vsock-proxy's format):",
                "  allowlist:",
                "  - {address: kms.us-east-1.amazonaws.com, port: 443}"})
public final class ProxyCommand implements Callable<Integer> {
    /** vsock-proxy's default configuration file. */
    static final String DEFAULT_CONFIG = "/etc/nitro_enclaves/vsock-proxy.yaml";
    /** vsock-proxy's default number of workers. */
    static final int DEFAULT_WORKERS = 4;
    static final int CONNECT_TIMEOUT_MILLIS = 10_000;

    @ParentCommand
    VsockCommand root;

    @Spec
    CommandSpec spec;

    static final class Family {
        @Option(names = {"-4", "--ipv4"}, description = "Use IPv4 addresses only.")
        boolean ipv4;

        @Option(names = {"-6", "--ipv6"}, description = "Use IPv6 addresses only.")
        boolean ipv6;
    }

    @ArgGroup(exclusive = true)
    Family family;

    @Option(names = {"-w", "--num_workers", "--workers"}, paramLabel = "WORKERS",
            description = "At most WORKERS connections at once; more wait to be accepted (default ${DEFAULT-VALUE}).")
    int workers = DEFAULT_WORKERS;

    @Option(names = "--config", paramLabel = "FILE",
            description = "vsock to TCP: the YAML allowlist (default ${DEFAULT-VALUE}).")
    Path config = Path.of(DEFAULT_CONFIG);

    @Option(names = "--tcp-listen", paramLabel = "[ADDR:]PORT", converter = TcpAddresses.Listen.class,
            description = "TCP to vsock: listen on TCP PORT of ADDR (default the loopback: 127.0.0.1, ::1 with -6).")
    TcpAddresses.ListenAt tcpListen;

    @Option(names = "--to", paramLabel = "CID:PORT", description = "With --tcp-listen: the vsock address to connect each client to.")
    String to;

    @Parameters(index = "0", arity = "0..1", paramLabel = "LOCAL_PORT", converter = Converters.Port.class,
            description = "The vsock port to listen on.")
    Integer localPort;

    @Parameters(index = "1", arity = "0..1", paramLabel = "REMOTE_HOST", description = "The TCP host to connect to.")
    String remoteHost;

    @Parameters(index = "2", arity = "0..1", paramLabel = "REMOTE_PORT", converter = TcpAddresses.Port.class,
            description = "The TCP port to connect to.")
    Integer remotePort;

    @Override
    public Integer call() {
        if (workers < 1) {
            throw new ParameterException(spec.commandLine(), "-w wants at least 1 worker: " + workers);
        }
        PrintStream log = root.stdio().err();
        try (Proxy proxy = tcpListen != null ? tcpToVsock() : vsockToTcp()) {
            log.println("vsock proxy: " + proxy.describe());
            log.flush();
            proxy.start();
            try {
                proxy.awaitStopped();
            } catch (InterruptedException stop) {
                return VsockCommand.EXIT_OK;
            }
            if (proxy.failure() != null) {
                throw new CliFailure(VsockCommand.describe(proxy.failure()));
            }
            return VsockCommand.EXIT_OK;
        }
    }

    private Resolver.Family family() {
        return family == null ? Resolver.Family.ANY : family.ipv4 ? Resolver.Family.IPV4 : Resolver.Family.IPV6;
    }

    private Proxy vsockToTcp() {
        if (to != null) {
            throw new ParameterException(spec.commandLine(), "--to goes with --tcp-listen");
        }
        if (remotePort == null) {
            throw new ParameterException(spec.commandLine(), "want LOCAL_PORT REMOTE_HOST REMOTE_PORT, or --tcp-listen [ADDR:]PORT --to CID:PORT");
        }
        Allowlist allowlist;
        try {
            allowlist = Allowlist.load(config);
        } catch (IOException e) {
            throw new CliFailure("--config " + VsockCommand.describe(e));
        }
        Resolver resolver = Resolver.system();
        try {
            allowlist.admit(remoteHost, remotePort, resolver, family());
        } catch (UnknownHostException e) {
            throw new CliFailure("cannot resolve " + remoteHost + ": " + VsockCommand.describe(e));
        } catch (IOException e) {
            throw new CliFailure(VsockCommand.describe(e));
        }
        Outbound outbound = Outbound.tcp(remoteHost, remotePort, allowlist, resolver, family(), CONNECT_TIMEOUT_MILLIS);
        try {
            return new Proxy(Inbound.vsock(root.provider(), localPort), outbound, workers, root.stdio().err());
        } catch (IOException e) {
            throw new CliFailure("vsock port " + Integer.toUnsignedString(localPort) + ": " + VsockCommand.describe(e));
        }
    }

    private Proxy tcpToVsock() {
        if (to == null) {
            throw new ParameterException(spec.commandLine(), "--tcp-listen wants --to CID:PORT");
        }
        if (localPort != null) {
            throw new ParameterException(spec.commandLine(), "--tcp-listen takes no LOCAL_PORT REMOTE_HOST REMOTE_PORT");
        }
        if (spec.commandLine().getParseResult().hasMatchedOption("--config")) {
            throw new ParameterException(spec.commandLine(), "--config is the allowlist of vsock to TCP, not of --tcp-listen");
        }
        VsockAddress remote;
        try {
            remote = VsockAddress.parse(to);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--to: " + e.getMessage());
        }
        InetSocketAddress listenAt;
        try {
            InetAddress host = tcpListen.host() != null ? InetAddress.getByName(tcpListen.host())
                    : family() == Resolver.Family.IPV6 ? InetAddress.ofLiteral("::1") : InetAddress.ofLiteral("127.0.0.1");
            listenAt = new InetSocketAddress(host, tcpListen.port());
        } catch (UnknownHostException e) {
            throw new CliFailure("--tcp-listen: cannot resolve " + tcpListen.host());
        }
        try {
            return new Proxy(Inbound.tcp(listenAt), Outbound.vsock(root.provider(), remote), workers, root.stdio().err());
        } catch (IOException e) {
            throw new CliFailure(VsockCommand.describe(e));
        }
    }
}
