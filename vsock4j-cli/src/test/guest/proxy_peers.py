#!/usr/bin/env python3
"""TCP peers for `vsock proxy`'s half-close and backpressure, run inside the QEMU test guest.

    proxy_peers.py --connect PORT --serve PORT --bytes N --bound N [--stall S] [--connections N] [CASE...]

The client connects to 127.0.0.1:CONNECT (where `vsock proxy --tcp-listen` listens); the server listens
on 127.0.0.1:SERVE (where `vsock proxy LOCAL_PORT 127.0.0.1 SERVE` connects each vsock client to). Every
byte between them crosses both proxies and the kernel's vsock. Each case uses a connection of its own
and prints one line, "CASE ok DETAIL" or "CASE FAIL WHY"; the exit status is 1 if any case failed.

Cases:
  client-half-close  the client sends a request and half-closes; the server reads up to that EOF and
                     answers, the client reads the whole answer and then EOF
  server-half-close  the server sends a banner and half-closes; the client reads up to that EOF, then
                     sends and half-closes; the server gets it all, the client then reads EOF
  client-writes      backpressure: the client writes N random bytes to a server that does not read; the
                     client must stop with less than BOUND bytes written (the proxies hold nothing more
                     than their sockets' buffers and one relay buffer each), then the server reads, and SHA-256 and
                     length must match on both ends, the server seeing the client's FIN at the end
  server-writes      the same, the server writing to a client that does not read
  client-killed      the server writes without end; the client reads 1 MiB and dies (a reset, as a killed
                     process with unread data): the server's writes must fail within PROMPT seconds
  server-killed      the same the other way round, the client writing
  many               CONNECTIONS connections one after the other, each a line echoed back whole after
                     the client's half-close (the caller counts the proxies' descriptors around it)
"""
import argparse
import fcntl
import hashlib
import random
import socket
import struct
import sys
import termios
import threading
import time

# Every blocking call has a timeout, so a lost EOF or a stuck relay fails the case instead of hanging the
# guest. Generous: the proxies run in JVMs on an emulated CPU (single-threaded TCG).
TIMEOUT = 90
CHUNK = 16 << 10
# How soon a killed end must close the other: seconds under TCG, where the proxies are slow to run.
PROMPT = 30


class Failed(Exception):
    pass


def check(condition, why):
    if not condition:
        raise Failed(why)


class Peers:
    def __init__(self, connect_port, server):
        self.connect_port = connect_port
        self.server = server

    def pair(self):
        """A client connected through the proxies, and the server's end of the same connection."""
        c = socket.create_connection(("127.0.0.1", self.connect_port), timeout=TIMEOUT)
        c.settimeout(TIMEOUT)
        s, _ = self.server.accept()
        s.settimeout(TIMEOUT)
        return c, s


def read_all(sock, what):
    """Everything up to EOF; a timeout says which read never saw its EOF and how much came before."""
    parts = []
    while True:
        try:
            b = sock.recv(1 << 16)
        except socket.timeout:
            raise Failed("%s: no EOF within %d s after %d bytes" % (what, TIMEOUT, sum(map(len, parts))))
        if not b:
            return b"".join(parts)
        parts.append(b)


def client_half_close(peers, args):
    c, s = peers.pair()
    with c, s:
        c.sendall(b"request")
        c.shutdown(socket.SHUT_WR)
        request = read_all(s, "the server reading the request")  # ends only at the client's FIN, carried as a vsock SHUTDOWN and back
        check(request == b"request", "the server read %r up to EOF, not b'request'" % request)
        s.sendall(b"got " + request)
        s.close()
        answer = read_all(c, "the client reading the answer")
        check(answer == b"got request", "the client read %r after its half-close, not b'got request'" % answer)
    return "request, FIN, answer after the FIN"


def server_half_close(peers, args):
    c, s = peers.pair()
    with c, s:
        s.sendall(b"banner")
        s.shutdown(socket.SHUT_WR)
        banner = read_all(c, "the client reading the banner")
        check(banner == b"banner", "the client read %r up to the server's EOF, not b'banner'" % banner)
        c.sendall(b"after your EOF")
        c.shutdown(socket.SHUT_WR)
        heard = read_all(s, "the server reading after its half-close")
        check(heard == b"after your EOF", "the server read %r after its own half-close" % heard)
        s.close()
        rest = read_all(c, "the client after both half-closes")
        check(rest == b"", "the client read %r instead of EOF once both directions ended" % rest)
    return "banner, FIN, then the client's bytes still reached the server"


def queued(sock):
    """Bytes waiting in the socket's receive queue (SIOCINQ)."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def backpressure(peers, args, client_writes):
    rng = random.Random(16 if client_writes else 61)
    data = b"".join(rng.randbytes(min(1 << 20, args.bytes - off)) for off in range(0, args.bytes, 1 << 20))
    c, s = peers.pair()
    with c, s:
        writer, reader = (c, s) if client_writes else (s, c)
        writer.settimeout(3 * TIMEOUT)  # it waits for the reader for as long as the case takes
        written = [0]
        error = [None]
        done = threading.Event()

        def write():
            try:
                for off in range(0, len(data), CHUNK):
                    writer.sendall(data[off:off + CHUNK])
                    written[0] = min(off + CHUNK, len(data))
                writer.shutdown(socket.SHUT_WR)
            except OSError as e:
                error[0] = e
            finally:
                done.set()

        t = threading.Thread(target=write, daemon=True)
        t.start()
        try:
            return hold_then_read(args, data, writer, reader, t, written, error, done)
        finally:
            # On a failure the writer may still be blocked in send: shutting the socket down wakes it
            # (closing it would not), so the next case starts clean.
            for sock in (c, s):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def hold_then_read(args, data, writer, reader, t, written, error, done):
    # The reader does not read. Wait for the state that shows the chain is full: bytes have crossed
    # both proxies into the reader's receive queue, and the writer has made no progress for STALL
    # seconds. (A writer that finishes, or a deadline, ends the wait too; the checks below say which.)
    deadline = time.monotonic() + TIMEOUT
    last, since = -1, time.monotonic()
    while not done.is_set() and time.monotonic() < deadline:
        now = time.monotonic()
        if written[0] != last:
            last, since = written[0], now
        elif queued(reader) > 0 and now - since >= args.stall:
            break
        time.sleep(0.05)
    held, in_queue = written[0], queued(reader)
    check(not done.is_set(), "the writer was not held back: it wrote all %d bytes (error %s) to a reader that "
          "did not read" % (written[0], error[0]))
    check(in_queue > 0, "nothing reached the reader's socket in %d s (%d bytes written)" % (TIMEOUT, held))
    check(held < args.bound, "%d bytes written to a reader that did not read: more than the bound %d"
          % (held, args.bound))
    # Now read: everything must arrive, then the writer's FIN.
    h = hashlib.sha256()
    n = 0
    while True:
        try:
            b = reader.recv(1 << 16)
        except socket.timeout:
            raise Failed("the reader: no EOF within %d s after %d bytes" % (TIMEOUT, n))
        if not b:
            break
        h.update(b)
        n += len(b)
    t.join(TIMEOUT)
    check(not t.is_alive(), "the writer still blocked after the reader read %d bytes" % n)
    check(error[0] is None, "the writer failed: %s" % error[0])
    check(n == len(data), "the reader got %d bytes, not %d" % (n, len(data)))
    check(h.hexdigest() == hashlib.sha256(data).hexdigest(), "SHA-256 differs: read %s, sent %s"
          % (h.hexdigest(), hashlib.sha256(data).hexdigest()))
    return "held at %d bytes (%d in the reader's queue), then %d bytes by SHA-256 %s" % (
        held, in_queue, n, h.hexdigest()[:16])


def killed(peers, args, client_dies):
    c, s = peers.pair()
    with c, s:
        dies, survivor = (c, s) if client_dies else (s, c)
        outcome = []

        def write_until_it_fails():
            block = bytes(CHUNK)
            try:
                while True:
                    survivor.sendall(block)
            except socket.timeout:
                outcome.append("no failure: a write blocked for %d s" % TIMEOUT)
            except OSError as e:
                outcome.append(e)

        t = threading.Thread(target=write_until_it_fails, daemon=True)
        t.start()
        n = 0
        while n < 1 << 20:
            b = dies.recv(min(1 << 16, (1 << 20) - n))
            check(b, "EOF after %d bytes, before the end was killed" % n)
            n += len(b)
        # SO_LINGER 0: close resets the connection, as when a process dies with data unread.
        dies.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        dies.close()
        killed_at = time.monotonic()
        t.join(TIMEOUT + 10)
        after = time.monotonic() - killed_at
        check(outcome and isinstance(outcome[0], OSError),
              "the other end's writes did not fail: %s" % (outcome[0] if outcome else "still writing"))
        check(after < PROMPT, "the other end's write failed only %.1f s after the kill" % after)
    return "the %s's write failed %.1f s after the %s was killed: %s" % (
        "server" if client_dies else "client", after, "client" if client_dies else "server", outcome[0])


def many(peers, args):
    echoed = []

    def echo():
        for _ in range(args.connections):
            s, _ = peers.server.accept()
            with s:
                s.settimeout(TIMEOUT)
                s.sendall(read_all(s, "the server reading a request"))
            echoed.append(1)

    t = threading.Thread(target=echo, daemon=True)
    t.start()
    for i in range(args.connections):
        with socket.create_connection(("127.0.0.1", peers.connect_port), timeout=TIMEOUT) as c:
            c.settimeout(TIMEOUT)
            msg = b"connection %d" % i
            c.sendall(msg)
            c.shutdown(socket.SHUT_WR)
            got = read_all(c, "the client of connection %d reading the echo" % i)
            check(got == msg, "connection %d: %r came back for %r" % (i, got, msg))
    t.join(TIMEOUT)
    check(len(echoed) == args.connections, "the server echoed %d connections of %d" % (len(echoed), args.connections))
    return "%d connections echoed" % args.connections


CASES = {
    "client-half-close": client_half_close,
    "server-half-close": server_half_close,
    "client-writes": lambda peers, args: backpressure(peers, args, True),
    "server-writes": lambda peers, args: backpressure(peers, args, False),
    "client-killed": lambda peers, args: killed(peers, args, True),
    "server-killed": lambda peers, args: killed(peers, args, False),
    "many": many,
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--connect", type=int, required=True)
    p.add_argument("--serve", type=int, required=True)
    p.add_argument("--bytes", type=int, default=8 << 20)
    p.add_argument("--bound", type=int, default=2 << 20)
    p.add_argument("--stall", type=float, default=2.0)
    p.add_argument("--connections", type=int, default=200)
    p.add_argument("cases", nargs="*", default=[c for c in CASES if c != "many"])
    args = p.parse_args()
    server = socket.create_server(("127.0.0.1", args.serve))
    server.settimeout(TIMEOUT)
    peers = Peers(args.connect, server)
    failed = False
    for name in args.cases:
        start = time.monotonic()
        try:
            detail = CASES[name](peers, args)
            print("%s ok %.1fs %s" % (name, time.monotonic() - start, detail), flush=True)
        except Exception as e:  # one line per case whatever went wrong, and the next case still runs
            failed = True
            print("%s FAIL %.1fs %s: %s" % (name, time.monotonic() - start, type(e).__name__, e), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
