package io.vsock4j.cli.nc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * {@code --exec}: one process per connection, started with {@code /bin/sh -c CMD}, its stdin fed from
 * the socket and its stdout sent to the socket (stderr stays the listener's). The process's stdout EOF
 * half-closes the connection; the socket's EOF closes the process's stdin. The session ends when the
 * process has exited and its output is sent; then the connection is closed.
 *
 * <p>Threads: {@link #run} on a session thread, plus one virtual thread that copies socket to process.
 */
final class ExecSession {
    private final NcChannel channel;
    private final String command;
    /** Set once the process runs; read by {@link #stop()} on another thread. */
    private volatile Process process;

    ExecSession(NcChannel channel, String command) {
        this.channel = channel;
        this.command = command;
    }

    /** Runs the command for this connection; returns its exit status. */
    int run() throws IOException, InterruptedException {
        Process process = new ProcessBuilder(List.of("/bin/sh", "-c", command))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        this.process = process;
        Thread toProcess = Thread.ofVirtual().name("vsock-nc-exec-in").start(() -> copyToProcess(process.getOutputStream()));
        try {
            copyToPeer(process.getInputStream());
            return process.waitFor();
        } finally {
            channel.close(); // wakes toProcess if the peer is still sending
            toProcess.join();
            process.destroy();
        }
    }

    /** Ends the session from another thread: kills the process and closes the connection. */
    void stop() {
        Process p = process;
        if (p != null) {
            p.destroy();
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing is all we wanted.
        }
    }

    private void copyToPeer(InputStream fromProcess) {
        Units.Source source = channel.source(fromProcess);
        try {
            int n;
            while ((n = source.next()) >= 0) {
                channel.send(source.buffer(), 0, n);
            }
            channel.shutdownOutput();
        } catch (IOException peerOrProcessGone) {
            // Either side ended early: the session ends when the process exits.
        }
    }

    private void copyToProcess(OutputStream toProcess) {
        Units.Sink sink = channel.sink(toProcess);
        try (toProcess) {
            int n;
            while ((n = channel.receive()) >= 0) {
                sink.write(channel.receiveBuffer(), 0, n);
            }
        } catch (IOException peerOrProcessGone) {
            // The process closed its stdin, or the connection ended: stop feeding it.
        }
    }
}
