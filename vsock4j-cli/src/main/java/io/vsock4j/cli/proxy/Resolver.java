package io.vsock4j.cli.proxy;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

/**
 * Host name to addresses, asked again for every proxied connection. The system resolver goes through the
 * JVM's name cache, which keeps an answer for {@code networkaddress.cache.ttl} seconds (30 by default) and
 * then asks DNS again, so a changed record reaches the proxy within that time. An IP literal is itself and
 * never asks anyone. Tests inject their own resolver to change a name's address between connections.
 */
@FunctionalInterface
interface Resolver {
    /** The addresses of {@code host}, in the resolver's order; never empty. */
    List<InetAddress> resolve(String host) throws IOException;

    /** Which addresses the proxy may use: {@code -4}, {@code -6}, or either (vsock-proxy's IpAddrType). */
    enum Family {
        ANY, IPV4, IPV6;

        boolean admits(InetAddress a) {
            return switch (this) {
                case ANY -> true;
                case IPV4 -> a instanceof Inet4Address;
                case IPV6 -> a instanceof Inet6Address;
            };
        }
    }

    /** The JVM's resolver (with its cache, see above). */
    static Resolver system() {
        return host -> Arrays.asList(InetAddress.getAllByName(host));
    }

    /** This resolver's answer cut to {@code family}; a name with no address of that family is unknown. */
    default List<InetAddress> resolve(String host, Family family) throws IOException {
        List<InetAddress> all = literal(host);
        if (all == null) {
            all = resolve(host);
        }
        List<InetAddress> kept = all.stream().filter(family::admits).toList();
        if (kept.isEmpty()) {
            throw new UnknownHostException(host + ": no " + switch (family) {
                case ANY -> "";
                case IPV4 -> "IPv4 ";
                case IPV6 -> "IPv6 ";
            }
                    + "address (it has " + all.stream().map(InetAddress::getHostAddress).toList() + ")");
        }
        return kept;
    }

    /** {@code host} as an IP address when it is written as one (no resolver asked), else null. */
    static List<InetAddress> literal(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        try {
            return List.of(InetAddress.ofLiteral(h));
        } catch (IllegalArgumentException notLiteral) {
            return null;
        }
    }
}
