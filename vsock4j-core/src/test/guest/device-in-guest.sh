#!/usr/bin/env bash
# Runs inside a QEMU guest whose vsock device is vsock4j's vhost-user-vsock device (guest/run.sh
# --vhost-user-vsock): the guest kernel's own virtio-vsock driver, and programs nobody here wrote (ncat,
# socat, Python's socket module), talk to sockets of the JVM that runs the device, which is CID 2 here.
# Usage: device-in-guest.sh RESULTS_DIR BYTES. Ports (the JVM side, VhostUserVsockInGuestTest, listens):
#   6000 control: the guest says "ready PORT" once its listener for the JVM's connect is up
#   6001 STREAM, guest -> JVM: BYTES random bytes; the JVM answers the SHA-256 of what it read
#   6002 STREAM, JVM -> guest: the guest listens, the JVM connects to (guest, 6002) and sends
#   6003 SEQPACKET echo, 6004 STREAM echo (socat), 6005 100 concurrent connections, each answered its byte count
# Writes RESULTS_DIR/results.txt, "KEY VALUE" lines.
set -u
out=$1/results.txt
bytes=$2
: > "$out"
note() { echo "$1 $2" >> "$out"; }

python3 - >> "$out" <<'PY'
import fcntl, struct
with open("/dev/vsock", "rb") as f:
    cid = struct.unpack("I", fcntl.ioctl(f, 0x7b9, struct.pack("I", 0)))[0]
print("guest_cid", cid)
PY

# Guest to JVM: ncat sends the file, half-closes, and prints the JVM's answer.
head -c "$bytes" /dev/urandom > /tmp/to-host
note to_host_sha "$(sha256sum < /tmp/to-host | cut -c1-64)"
start=$(date +%s.%N)
note host_answer "$(ncat --vsock 2 6001 < /tmp/to-host 2> /tmp/ncat-up.err)"
note to_host_exit $?
note to_host_seconds "$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')"
note to_host_stderr "$(tr '\n' ' ' < /tmp/ncat-up.err)"

# JVM to guest: a listener here, the JVM told once it listens.
ncat --vsock -v -l --recv-only 6002 > /tmp/from-host 2> /tmp/ncat-down.err &
listener=$!
end=$((SECONDS + 60))
until grep -qi "listening on" /tmp/ncat-down.err || ((SECONDS > end)); do sleep 0.1; done
start=$(date +%s.%N)
echo "ready 6002" | ncat --vsock --send-only 2 6000
wait $listener
note from_host_exit $?
note from_host_seconds "$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')"
note from_host_sha "$(sha256sum < /tmp/from-host | cut -c1-64)"
note from_host_bytes "$(wc -c < /tmp/from-host)"

# SEQPACKET: messages of random sizes, each echoed whole by the JVM.
python3 - >> "$out" <<'PY'
import random, socket
rng = random.Random(20261202)
s = socket.socket(socket.AF_VSOCK, socket.SOCK_SEQPACKET)
s.connect((2, 6003))
ok = 0
for i in range(200):
    msg = rng.randbytes(rng.choice([1, 7, 100, 4096 - 44, 4096, 5000, 20000, 65536]))
    s.send(msg)
    echo = s.recv(70000)
    if echo == msg:
        ok += 1
    else:
        print("seqpacket_mismatch", i, len(msg), len(echo))
        break
s.close()
print("seqpacket_echoed", ok)
PY

# The same transfer over the guest's own kernel loopback (CID 1), for the ratio in the test's report:
# both ncat ends then run in the emulated guest, where the device's transfers have one end in the JVM.
ncat --vsock -l --recv-only 6100 > /dev/null 2> /dev/null &
listener=$!
start=$(date +%s.%N)
for _ in $(seq 1 100); do ncat --vsock --send-only 1 6100 < /tmp/to-host 2> /dev/null && break; sleep 0.1; done
wait $listener
note loopback_seconds "$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')"

# 100 connections at once, each sending 256 KiB: every one must get its count back.
python3 - >> "$out" <<'PY'
import socket, threading
N, SIZE = 100, 256 * 1024
answers = [None] * N
def one(i):
    try:
        s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
        s.connect((2, 6005))
        s.sendall(bytes([i]) * SIZE)
        s.shutdown(socket.SHUT_WR)
        answers[i] = s.makefile().readline().strip()
        s.close()
    except Exception as e:
        answers[i] = "error " + repr(e)
threads = [threading.Thread(target=one, args=(i,)) for i in range(N)]
for t in threads: t.start()
for t in threads: t.join()
print("concurrent_ok", sum(1 for a in answers if a == str(SIZE)))
bad = [a for a in answers if a != str(SIZE)]
if bad: print("concurrent_bad", bad[0])
PY

# socat, another client nobody here wrote.
note socat_echo "$(printf 'hello through socat\n' | socat -t 5 - VSOCK-CONNECT:2:6004)"
echo "done" >> "$out"
