package io.vsock4j.conformance;

import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;

import java.io.Closeable;
import java.net.SocketException;
import java.nio.channels.ClosedByInterruptException;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static io.vsock4j.conformance.Checks.awaitBlocked;
import static io.vsock4j.conformance.Checks.check;

/**
 * The blocking contract of the Java API, as the JDK's socket channels keep it, on every provider: close
 * from another thread wakes a blocked read, write or accept with "Socket closed"; interrupting the
 * blocked thread wakes it with ClosedByInterruptException and closes the socket. Each case first waits
 * until the thread is observably blocked in the call ({@link Checks#awaitBlocked}), on a virtual and on
 * a platform thread, so it cannot pass by waking a thread that never blocked. Stateless.
 */
final class BlockingCases {
    /** How many connections the read and write cases use: virtual and platform thread, close and interrupt. */
    private static final int CONNECTIONS = 4;
    /** Far beyond a peer's default 256 KiB buffer: the write blocks on credit. */
    private static final int BLOCKING_WRITE_BYTES = 4 << 20;

    private BlockingCases() {
    }

    static List<Case> all() {
        return List.of(
                new Case("blocking: close and interrupt wake a blocked read, on virtual and platform threads",
                        s -> wakeEach(s, "read", socket -> socket.getInputStream().read()), BlockingCases::acceptAndHold),
                new Case("blocking: close and interrupt wake a write blocked on credit",
                        s -> wakeEach(s, "write", socket -> socket.getOutputStream().write(new byte[BLOCKING_WRITE_BYTES])),
                        BlockingCases::acceptAndHold),
                new Case("blocking: close and interrupt wake a blocked accept, on virtual and platform threads",
                        Case.Half.NOTHING, BlockingCases::wakeAccepts));
    }

    /** A blocking call on a connected socket. */
    @FunctionalInterface
    private interface SocketCall {
        void run(VsockSocket socket) throws Exception;
    }

    private static void acceptAndHold(Side s) throws Exception {
        VsockServerSocket server = s.listen();
        s.control().send("LISTENING");
        for (int i = 0; i < CONNECTIONS; i++) {
            s.track(server.accept());
        }
        s.control().expect("DONE");
    }

    private static void wakeEach(Side s, String method, SocketCall call) throws Exception {
        s.control().expect("LISTENING");
        for (boolean virtual : new boolean[] {true, false}) {
            for (boolean interrupt : new boolean[] {false, true}) {
                VsockSocket socket = s.connect();
                String what = method + " on a " + (virtual ? "virtual" : "platform") + " thread, woken by "
                        + (interrupt ? "interrupt" : "close");
                Throwable woken = blockAndWake(virtual, interrupt, method, () -> call.run(socket), socket);
                expectWoken(woken, interrupt, what);
                check(socket.isClosed(), what + ": the socket is not closed afterwards");
            }
        }
        s.control().send("DONE");
    }

    private static void wakeAccepts(Side s) throws Exception {
        int extraPort = s.port() + 10_000;
        for (boolean virtual : new boolean[] {true, false}) {
            for (boolean interrupt : new boolean[] {false, true}) {
                VsockServerSocket server = virtual && interrupt ? s.listen() : s.track(VsockServerSocket.bind(s.provider(),
                        io.vsock4j.VsockAddress.of(io.vsock4j.VsockAddress.CID_ANY, extraPort++)));
                String what = "accept on a " + (virtual ? "virtual" : "platform") + " thread, woken by "
                        + (interrupt ? "interrupt" : "close");
                expectWoken(blockAndWake(virtual, interrupt, "accept", server::accept, server), interrupt, what);
                check(server.isClosed(), what + ": the listener is not closed afterwards");
            }
        }
    }

    /** A call that blocks. */
    @FunctionalInterface
    private interface Blocking {
        void run() throws Exception;
    }

    /**
     * Runs {@code call} on a new thread, waits until it is blocked in {@code method}, wakes it by closing
     * {@code target} or by interrupting it, and returns what it threw (null when it returned).
     */
    private static Throwable blockAndWake(boolean virtual, boolean interrupt, String method, Blocking call,
                                          Closeable target) throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Runnable body = () -> {
            try {
                call.run();
            } catch (Throwable t) {
                thrown.set(t);
            }
        };
        Thread thread = virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().daemon(true).start(body);
        try {
            awaitBlocked(thread, method);
            if (interrupt) {
                thread.interrupt();
            } else {
                target.close();
            }
            thread.join(Control.TIMEOUT_MILLIS);
            check(!thread.isAlive(), method + " still blocked " + Control.TIMEOUT_MILLIS + " ms after the "
                    + (interrupt ? "interrupt" : "close"));
            return thrown.get();
        } finally {
            target.close();
        }
    }

    private static void expectWoken(Throwable woken, boolean interrupt, String what) {
        if (interrupt) {
            check(woken instanceof ClosedByInterruptException, what + ": expected ClosedByInterruptException, got " + woken);
        } else {
            check(woken instanceof SocketException && "Socket closed".equals(woken.getMessage()),
                    what + ": expected SocketException 'Socket closed', got " + woken);
        }
    }
}
