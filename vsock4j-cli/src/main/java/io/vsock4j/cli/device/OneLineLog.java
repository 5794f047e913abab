package io.vsock4j.cli.device;

import java.io.PrintStream;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Shows what vsock4j's core logs (System.Logger, which java.util.logging serves by default) as one line
 * per event on standard error: {@code 12:03:04.567 INFO  frontend connected on /tmp/vm3.sock}. Installed
 * by {@code vsock device} for the {@code io.vsock4j} loggers only; the JDK's two-line default format
 * stays where it was for everything else. Any thread may log; the handler writes whole lines.
 */
final class OneLineLog extends Handler {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    /** Held so that the configured logger is not collected (java.util.logging keeps loggers weakly). */
    private static Logger configured;
    private final PrintStream out;
    private final Formatter messages = new Formatter() {
        @Override
        public String format(LogRecord r) {
            return formatMessage(r);
        }
    };

    private OneLineLog(PrintStream out) {
        this.out = out;
    }

    /** Routes the io.vsock4j loggers to {@code out}, at INFO, or at DEBUG (FINE) with {@code verbose}. */
    static synchronized void install(PrintStream out, boolean verbose) {
        Logger vsock = Logger.getLogger("io.vsock4j");
        for (Handler h : vsock.getHandlers()) {
            vsock.removeHandler(h);
        }
        Level level = verbose ? Level.FINE : Level.INFO;
        OneLineLog handler = new OneLineLog(out);
        handler.setLevel(level);
        vsock.addHandler(handler);
        vsock.setLevel(level);
        vsock.setUseParentHandlers(false);
        configured = vsock;
    }

    @Override
    public void publish(LogRecord r) {
        if (!isLoggable(r)) {
            return;
        }
        String level = switch (r.getLevel().intValue()) {
            case 1000 -> "ERROR";
            case 900 -> "WARN ";
            case 800 -> "INFO ";
            default -> "DEBUG";
        };
        String text = messages.format(r).replace('\n', ' ');
        Throwable t = r.getThrown();
        String line = TIME.format(LocalTime.now()) + " " + level + " " + text + (t == null ? "" : ": " + t);
        synchronized (out) {
            out.println(line);
        }
    }

    @Override
    public void flush() {
        out.flush();
    }

    @Override
    public void close() {
        flush();
    }
}
