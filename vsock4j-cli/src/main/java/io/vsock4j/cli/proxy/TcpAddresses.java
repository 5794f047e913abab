package io.vsock4j.cli.proxy;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The TCP side's command-line words, as picocli converters with one-line messages: a TCP port
 * (0..65535) and {@code --tcp-listen}'s {@code [ADDR:]PORT}, where ADDR is a host name, an IPv4 address
 * or an IPv6 address in brackets ({@code [::1]:8080}). Stateless.
 */
final class TcpAddresses {
    private TcpAddresses() {
    }

    /** {@code --tcp-listen}'s value; {@code host} is null when only a port was given. */
    record ListenAt(String host, int port) {
    }

    static int port(String text) {
        try {
            int p = Integer.parseInt(text.strip());
            if (p >= 0 && p <= 0xFFFF) {
                return p;
            }
        } catch (NumberFormatException ignored) {
            // said below
        }
        throw new TypeConversionException("not a TCP port 0..65535: '" + text + "'");
    }

    static ListenAt listenAt(String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            return new ListenAt(null, port(text));
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new TypeConversionException("write an IPv6 address in brackets, as [::1]:8080: '" + text + "'");
        }
        if (host.isEmpty()) {
            throw new TypeConversionException("no address before ':' (want [ADDR:]PORT): '" + text + "'");
        }
        return new ListenAt(host, port(text.substring(colon + 1)));
    }

    static final class Port implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return port(value);
        }
    }

    static final class Listen implements ITypeConverter<ListenAt> {
        @Override
        public ListenAt convert(String value) {
            return listenAt(value);
        }
    }
}
