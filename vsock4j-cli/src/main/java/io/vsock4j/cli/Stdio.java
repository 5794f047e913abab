package io.vsock4j.cli;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The three standard streams a command works with. {@code out} is raw bytes, because {@code vsock nc}
 * passes binary data through unchanged; text goes through {@link #text()}. Tests hand in pipes, the
 * launcher the process's own descriptors. Immutable; the streams are owned by whoever made the record.
 */
public record Stdio(InputStream in, OutputStream out, PrintStream err) {
    /** The process's descriptors, unbuffered underneath so nothing is held back from a pipe. */
    public static Stdio system() {
        return new Stdio(new FileInputStream(FileDescriptor.in), new FileOutputStream(FileDescriptor.out),
                new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8));
    }

    /** stdout for text lines, flushed on every println. */
    public PrintStream text() {
        return new PrintStream(out, true, StandardCharsets.UTF_8);
    }
}
