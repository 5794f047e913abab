package io.vsock4j.transport.link;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The accept loop of a Unix socket server that admits peers one by one (the link server's guests, the
 * shared machine daemon's processes): accepts until the server channel is closed and admits each
 * connection on its own virtual thread, so that a peer slow with its hello delays nobody. A peer whose
 * admission throws is disconnected; the server hears why through its {@code refused} callback.
 *
 * <p>Threads: one daemon platform thread, {@code NAME-accept}, that only accepts; one virtual thread
 * {@code NAME-hello} per connection, running the admission and the callback.
 */
public final class UnixAcceptor {
    /** What admits one accepted connection: its hello, then handing it to the links; throws to refuse it. */
    @FunctionalInterface
    public interface Admission {
        void admit(SocketChannel ch) throws IOException;
    }

    private final ServerSocketChannel server;
    private final String name;
    private final Admission admission;
    private final Consumer<Exception> refused;
    private final Thread thread;

    private UnixAcceptor(ServerSocketChannel server, String name, Admission admission, Consumer<Exception> refused) {
        this.server = server;
        this.name = name;
        this.admission = admission;
        this.refused = refused;
        this.thread = Thread.ofPlatform().name(name + "-accept").daemon(true).unstarted(this::acceptLoop);
    }

    /**
     * Starts accepting on {@code server}, a bound channel; closing {@code server} ends the loop.
     *
     * @param name      the threads' name prefix, e.g. {@code vsock4j-link}
     * @param refused   told why each refused peer was disconnected (after the channel is closed)
     */
    public static UnixAcceptor start(ServerSocketChannel server, String name, Admission admission,
                                     Consumer<Exception> refused) {
        UnixAcceptor a = new UnixAcceptor(server, name, admission, refused);
        a.thread.start();
        return a;
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException closed) {
                return;
            }
            Thread.ofVirtual().name(name + "-hello").start(() -> admit(ch));
        }
    }

    private void admit(SocketChannel ch) {
        try {
            admission.admit(ch);
        } catch (IOException | RuntimeException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // Refused either way.
            }
            refused.accept(e);
        }
    }

    /** Waits up to {@code timeout} for the loop to end, after the server channel was closed. */
    public void awaitEnd(Duration timeout) throws InterruptedException {
        thread.join(timeout);
    }
}
