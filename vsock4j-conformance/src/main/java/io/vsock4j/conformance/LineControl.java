package io.vsock4j.conformance;

import io.vsock4j.VsockSocket;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The control channel between two processes, as vsock_test's: text lines, one per {@code '\n'}, over any
 * byte stream pair: TCP between two processes on one host ({@link #tcp}), or a vsock connection where
 * there is no network between the sides, as between a guest and the JVM that runs its vsock device
 * ({@link #vsock}). One reader thread
 * sorts what arrives: {@code END} lines (a side's verdict on a case, see {@link RemoteRun}) go to their
 * own queue, so the runner sees the peer finish even while its own half is blocked; every other line
 * is for the running half ({@link #receive()}).
 *
 * <p>Threads: {@link #send} from the half's thread or the runner's (synchronized); the reader thread
 * is a daemon that ends when the connection closes.
 */
final class LineControl implements Control, Closeable {
    /** The marker of a line that reports the end of the connection. */
    private static final String CLOSED = "\u0000closed";

    private final Closeable connection;
    private final Writer writer;
    private final BlockingQueue<String> caseLines = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> endLines = new LinkedBlockingQueue<>();

    /** Lines over {@code in} and {@code out}; {@link #close()} closes {@code connection}, which must wake a blocked read. */
    private LineControl(InputStream in, OutputStream out, Closeable connection) {
        this.connection = connection;
        this.writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        Thread.ofPlatform().name("vsock-test-control").daemon(true).start(() -> readLines(reader));
    }

    /** Over a TCP connection, which it closes. */
    static LineControl tcp(Socket socket) throws IOException {
        socket.setTcpNoDelay(true);
        return new LineControl(socket.getInputStream(), socket.getOutputStream(), socket);
    }

    /** Over a vsock STREAM connection, which it closes. */
    static LineControl vsock(VsockSocket socket) {
        return new LineControl(socket.getInputStream(), socket.getOutputStream(), socket);
    }

    private void readLines(BufferedReader reader) {
        try {
            String line;
            while ((line = reader.readLine()) != null) {
                (line.startsWith("END ") ? endLines : caseLines).add(line);
            }
        } catch (IOException closed) {
            // The connection ended; both queues learn it below.
        }
        caseLines.add(CLOSED);
        endLines.add(CLOSED);
    }

    @Override
    public synchronized void send(String line) throws IOException {
        writer.write(line);
        writer.write('\n');
        writer.flush();
    }

    @Override
    public String receive() throws IOException {
        return take(caseLines, TIMEOUT_MILLIS);
    }

    /** The peer's next END line, or null when none came within {@code millis}. */
    String pollEnd(long millis) throws IOException {
        try {
            String line = endLines.poll(millis, TimeUnit.MILLISECONDS);
            if (CLOSED.equals(line)) {
                endLines.add(CLOSED);
                throw new IOException("the control connection closed");
            }
            return line;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for the peer");
        }
    }

    private static String take(BlockingQueue<String> queue, long millis) throws IOException {
        try {
            String line = queue.poll(millis, TimeUnit.MILLISECONDS);
            if (line == null) {
                throw new CaseFailure("control: the peer said nothing for " + millis + " ms");
            }
            if (CLOSED.equals(line)) {
                queue.add(CLOSED);
                throw new IOException("the control connection closed");
            }
            return line;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for the peer");
        }
    }

    @Override
    public void close() throws IOException {
        connection.close();
    }
}
