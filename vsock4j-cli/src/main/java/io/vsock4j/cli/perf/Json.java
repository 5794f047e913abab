package io.vsock4j.cli.perf;

import java.util.List;
import java.util.Locale;

/**
 * The few pieces of JSON that {@code vsock perf --json} prints: one object per run, on one line, so a script
 * can read it with any JSON parser. Numbers are written with a dot whatever the locale. Static helpers only.
 */
final class Json {
    private Json() {
    }

    static String string(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** Six significant digits are more than any throughput figure deserves. */
    static String number(double d) {
        return String.format(Locale.ROOT, "%.6g", d).replaceFirst("(\\.\\d*?)0+(e|$)", "$1$2").replaceFirst("\\.(e|$)", "$1");
    }

    static String numbers(List<Double> values) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            b.append(i == 0 ? "" : ",").append(number(values.get(i)));
        }
        return b.append(']').toString();
    }

    static String stats(Stats s) {
        return "{\"median\":" + number(s.median()) + ",\"min\":" + number(s.min()) + ",\"max\":" + number(s.max())
                + ",\"count\":" + s.count() + "}";
    }
}
