package io.vsock4j.cli;

import io.vsock4j.VsockAddress;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Locale;

/** picocli converters for CIDs, ports and byte counts, with one-line messages. Stateless. */
public final class Converters {
    private Converters() {
    }

    /** A CID: an unsigned 32-bit number or one of any, hypervisor, local, host. */
    public static final class Cid implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                return VsockAddress.parseCid(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** A port to bind or connect to: 0 .. 4294967294 (the all-ones value is PORT_ANY, not a port). */
    public static final class Port implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int port;
            try {
                port = VsockAddress.parsePort(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
            if (port == VsockAddress.PORT_ANY) {
                throw new TypeConversionException("port out of range 0.." + 0xFFFF_FFFEL + ": '" + value + "'");
            }
            return port;
        }
    }

    /** A byte count with an optional binary suffix: 4096, 64K, 1M, 2G. Must be positive. */
    public static final class Bytes implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            String t = value.trim().toUpperCase(Locale.ROOT);
            long unit = 1;
            if (!t.isEmpty()) {
                switch (t.charAt(t.length() - 1)) {
                    case 'K' -> unit = 1L << 10;
                    case 'M' -> unit = 1L << 20;
                    case 'G' -> unit = 1L << 30;
                    default -> unit = 1;
                }
            }
            String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
            try {
                long n = Math.multiplyExact(Long.parseLong(digits), unit);
                if (n <= 0) {
                    throw new TypeConversionException("byte count must be positive: '" + value + "'");
                }
                return n;
            } catch (NumberFormatException | ArithmeticException e) {
                throw new TypeConversionException("not a byte count (e.g. 4096, 64K, 1M, 2G): '" + value + "'");
            }
        }
    }
}
