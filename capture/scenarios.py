#!/usr/bin/env python3
"""The golden-trace scenarios, run by the Linux kernel's own vsock stack over vsock_loopback (CID 1).

capture/record-golden.sh runs each scenario inside the QEMU guest with tcpdump on vsockmon0; the
resulting traces are the reference that vsock4j's engine is compared with (GoldenTraceTest). The Java
twin of every scenario is in vsock4j-core/src/test/java/io/vsock4j/capture/GoldenScenarios.java: keep
the two in step (same ports, same sizes, same order of calls).

Usage: scenarios.py NAME   (refused | stream | unread | seqpacket | emsgsize)

Both ends live in this one process and bind fixed ports, so the traces carry the same addresses as the
Java ones. Where the script must wait for the kernel to act on a packet before its next call (the peer
answering a SHUTDOWN with RST), it sleeps: the kernel's loopback worker needs microseconds, the sleeps
are 0.5 s.

SAFETY: kernel AF_VSOCK sockets may only be opened inside the project's throw-away guest; the script
refuses to run unless /proc/cmdline carries the guest's guard word.
"""
import errno
import socket
import sys
import threading
import time

CID_LOCAL = 1
SETTLE_S = 0.5

STREAM_BYTES = 384 * 1024
STREAM_READ_CHUNK = 16 * 1024
REPLY_BYTES = 1000
SEQ_MESSAGES = [(100, 0), (200, socket.MSG_EOR), (70000, socket.MSG_EOR), (3, 0)]
SMALL_BUFFER = 64 * 1024


def guard():
    with open("/proc/cmdline") as f:
        if "vsock4j.guest=1" not in f.read().split():
            sys.exit("scenarios.py: not in the vsock4j guest (no vsock4j.guest=1 on the kernel command "
                     "line); refusing to open kernel AF_VSOCK sockets here")


def pattern(n):
    return bytes(i % 251 for i in range(n))


def listen(kind, port):
    s = socket.socket(socket.AF_VSOCK, kind)
    s.bind((CID_LOCAL, port))
    s.listen(4)
    return s


def client(kind, port):
    s = socket.socket(socket.AF_VSOCK, kind)
    s.bind((CID_LOCAL, port + 1000))
    return s


def read_all(s, chunk, pause_s=0.0):
    got = bytearray()
    while True:
        b = s.recv(chunk)
        if not b:
            return bytes(got)
        got += b
        if pause_s:
            time.sleep(pause_s)


def expect(cond, what):
    if not cond:
        sys.exit("scenarios.py: " + what)


def refused():
    """Connect with nothing listening: REQUEST, then the kernel's RST for no socket."""
    c = client(socket.SOCK_STREAM, 5001)
    try:
        c.connect((CID_LOCAL, 5001))
        expect(False, "connect to a port nobody listens on succeeded")
    except OSError as e:
        expect(e.errno == errno.ECONNRESET, "connect failed with %s, not ECONNRESET" % e)
    c.close()


def stream():
    """384 KiB to a slow reader (the writer stalls on credit), each side half-closes in turn, close."""
    ls = listen(socket.SOCK_STREAM, 5002)
    c = client(socket.SOCK_STREAM, 5002)
    c.connect((CID_LOCAL, 5002))
    s, _ = ls.accept()
    data = pattern(STREAM_BYTES)

    def write():
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(SETTLE_S)  # the writer fills the 256 KiB buffer and stalls on credit
    got = read_all(s, STREAM_READ_CHUNK, pause_s=0.002)
    writer.join()
    expect(got == data, "stream: %d bytes read, %d sent" % (len(got), len(data)))
    s.sendall(pattern(REPLY_BYTES))
    s.shutdown(socket.SHUT_WR)
    expect(read_all(c, 4096) == pattern(REPLY_BYTES), "stream: reply differs")
    c.close()
    time.sleep(SETTLE_S)  # the server answers the client's SHUTDOWN(RCV|SEND) with RST
    s.close()
    ls.close()


def unread():
    """The reader closes with 1000 bytes it never read."""
    ls = listen(socket.SOCK_STREAM, 5003)
    c = client(socket.SOCK_STREAM, 5003)
    c.connect((CID_LOCAL, 5003))
    s, _ = ls.accept()
    c.sendall(pattern(REPLY_BYTES))
    time.sleep(SETTLE_S)
    s.close()
    time.sleep(SETTLE_S)  # the client answers the SHUTDOWN with RST
    expect(c.recv(10) == b"", "unread: the client did not see EOF")
    c.close()
    ls.close()


def seqpacket():
    """Four messages with and without MSG_EOR (one spans two packets), one reply, close."""
    ls = listen(socket.SOCK_SEQPACKET, 5004)
    c = client(socket.SOCK_SEQPACKET, 5004)
    c.connect((CID_LOCAL, 5004))
    s, _ = ls.accept()
    for size, flags in SEQ_MESSAGES:
        expect(c.sendmsg([pattern(size)], [], flags) == size, "seqpacket: short send")
    for size, flags in SEQ_MESSAGES:
        msg, _, mflags, _ = s.recvmsg(128 * 1024)
        expect(msg == pattern(size), "seqpacket: message of %d bytes differs" % size)
        expect((mflags & socket.MSG_EOR) == flags, "seqpacket: MSG_EOR differs on %d bytes" % size)
    s.sendmsg([pattern(10)], [], socket.MSG_EOR)
    expect(c.recv(100) == pattern(10), "seqpacket: reply differs")
    c.close()
    time.sleep(SETTLE_S)
    s.close()
    ls.close()


def emsgsize():
    """The server's buffer is 64 KiB: a message one byte larger fails, one exactly that size passes."""
    ls = socket.socket(socket.AF_VSOCK, socket.SOCK_SEQPACKET)
    # Python passes the value as the u64 the kernel wants on AF_VSOCK sockets.
    ls.setsockopt(socket.AF_VSOCK, socket.SO_VM_SOCKETS_BUFFER_SIZE, SMALL_BUFFER)
    ls.bind((CID_LOCAL, 5005))
    ls.listen(4)
    c = client(socket.SOCK_SEQPACKET, 5005)
    c.connect((CID_LOCAL, 5005))
    s, _ = ls.accept()
    try:
        c.send(pattern(SMALL_BUFFER + 1))
        expect(False, "emsgsize: a message over the peer's buffer was sent")
    except OSError as e:
        # Linux before 6.7 turned every enqueue error into ENOMEM in vsock_connectible_sendmsg;
        # either way nothing reaches the wire, which is what the trace shows.
        expect(e.errno in (errno.EMSGSIZE, errno.ENOMEM), "emsgsize: failed with %s, not EMSGSIZE" % e)
    expect(c.send(pattern(SMALL_BUFFER)) == SMALL_BUFFER, "emsgsize: short send")
    expect(s.recv(128 * 1024) == pattern(SMALL_BUFFER), "emsgsize: message differs")
    c.close()
    time.sleep(SETTLE_S)
    s.close()
    ls.close()


SCENARIOS = {f.__name__: f for f in (refused, stream, unread, seqpacket, emsgsize)}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        sys.exit("usage: scenarios.py " + " | ".join(SCENARIOS))
    guard()
    SCENARIOS[sys.argv[1]]()
