package io.vsock4j.cli.proxy;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where vsock to TCP may go: vsock-proxy's YAML allowlist, the same file format so one file serves both.
 * <pre>
 * allowlist:
 * - {address: kms.us-east-1.amazonaws.com, port: 443}
 * - {address: 10.0.0.5, port: 5432}
 * </pre>
 * An entry's address is an IP address or a host name; a name stands for the addresses it resolves to at
 * the time of the check. A destination (host, port) is admitted when an entry has its port and the address
 * the proxy would connect to is one the entry stands for: the check is on the address, not on how the
 * destination was written. It runs at start-up and again for every connection, after the destination's
 * name has been resolved again, so a name whose record now points elsewhere is refused unless the new
 * address is listed too. Immutable after {@link #load}; any thread.
 */
final class Allowlist {
    /** One {@code address}/{@code port} entry. */
    record Entry(String address, int port) {
    }

    /** A destination the allowlist does not admit; the message says which and why, in one line. */
    static final class Refused extends IOException {
        Refused(String message) {
            super(message);
        }
    }

    private final String source;
    private final List<Entry> entries;

    Allowlist(String source, List<Entry> entries) {
        this.source = source;
        this.entries = List.copyOf(entries);
    }

    List<Entry> entries() {
        return entries;
    }

    /**
     * Reads a vsock-proxy configuration file.
     *
     * @throws IOException when the file cannot be read or is not such a file, saying what is wrong
     */
    static Allowlist load(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(file.toString(), r);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file (want vsock-proxy's YAML allowlist)");
        } catch (FileSystemException e) {
            throw new IOException(file + ": " + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName()));
        }
    }

    /** Reads a configuration from {@code r}; {@code source} names it in errors. */
    static Allowlist read(String source, Reader r) throws IOException {
        try {
            return parse(source, new Yaml(new SafeConstructor(new LoaderOptions())).load(r));
        } catch (YAMLException | IllegalArgumentException e) {
            // SnakeYAML rejects some malformed tags with IllegalArgumentException (AllowlistFuzzTest found "!-%3").
            throw new IOException(source + ": not YAML: " + firstLine(e.getMessage()));
        }
    }

    static Allowlist parse(String source, Object yaml) throws IOException {
        if (!(yaml instanceof Map<?, ?> top) || !(top.get("allowlist") instanceof List<?> list)) {
            throw new IOException(source + ": no 'allowlist:' list (vsock-proxy's format: allowlist: - {address: HOST, port: PORT})");
        }
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String where = source + ": allowlist entry " + (i + 1);
            if (!(list.get(i) instanceof Map<?, ?> m)) {
                throw new IOException(where + " is not a map of address and port");
            }
            if (!(m.get("address") instanceof String address) || address.isBlank()) {
                throw new IOException(where + " has no address");
            }
            if (!(m.get("port") instanceof Integer port) || port < 0 || port > 0xFFFF) {
                throw new IOException(where + " has no port 0..65535 (port: " + m.get("port") + ")");
            }
            entries.add(new Entry(address.strip(), port));
        }
        return new Allowlist(source, entries);
    }

    /**
     * The address to connect to for {@code host:port}: the first of the host's addresses (of {@code family})
     * that an entry with this port stands for.
     *
     * @throws Refused when none is, naming the addresses found
     * @throws IOException when {@code host} does not resolve
     */
    InetAddress admit(String host, int port, Resolver resolver, Resolver.Family family) throws IOException {
        List<InetAddress> candidates = resolver.resolve(host, family);
        List<Entry> onPort = entries.stream().filter(e -> e.port() == port).toList();
        if (onPort.isEmpty()) {
            throw new Refused(host + ":" + port + " is not on the allowlist of " + source + " (no entry has port " + port + ")");
        }
        for (Entry e : onPort) {
            List<InetAddress> allowed = e.address().toLowerCase(Locale.ROOT).equals(host.toLowerCase(Locale.ROOT))
                    ? candidates : entryAddresses(e, resolver, family);
            for (InetAddress c : candidates) {
                if (allowed.contains(c)) {
                    return c;
                }
            }
        }
        throw new Refused(host + ":" + port + " is not on the allowlist of " + source + " (no entry with port "
                + port + " stands for " + String.join(" or ", candidates.stream().map(InetAddress::getHostAddress).toList()) + ")");
    }

    /** What an entry stands for now; an entry whose name does not resolve stands for nothing. */
    private static List<InetAddress> entryAddresses(Entry e, Resolver resolver, Resolver.Family family) throws IOException {
        try {
            return resolver.resolve(e.address(), family);
        } catch (UnknownHostException gone) {
            return List.of();
        }
    }

    private static String firstLine(String s) {
        String t = s == null ? "" : s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }
}
