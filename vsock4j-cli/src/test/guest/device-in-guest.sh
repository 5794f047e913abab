#!/usr/bin/env bash
# Runs inside a QEMU guest whose vsock device is `vsock device` on the host (guest/run.sh
# --vhost-user-vsock), which also serves hybrid vsock on UDS and puts the guest on a shared machine
# of the host's user (DeviceInGuestIT holds the host side).
# Usage: device-in-guest.sh RESULTS_DIR
#   guest -> host: "hello from the guest" to host port 7000, where `vsock nc -l 7000` listens in
#                  another process of the shared machine; 1 MiB to host port 7100, which the device
#                  joins to UDS_7100, where `vsock nc --hybrid 3=UDS -l 7100` listens (SHA-256 noted);
#                  then "ready 5000" to host port 6000, which the device joins to UDS_6000
#   host -> guest: a listener on 5000 answers the line socat sends through "CONNECT 5000" on UDS, one
#                  on 5001 the line `vsock nc 3 5001` sends from another process; on 5003 what
#                  `vsock nc --hybrid 3=UDS 3 5003` sends through the device's hybrid socket, kept
#                  in RESULTS_DIR/hybrid-in.bin (size and SHA-256 noted); the host's connect
#                  to 5002 says it has all it wanted, and the guest powers off (a VMM that leaves
#                  resets the host's connections, and with them what the host had not read yet)
# Writes RESULTS_DIR/results.txt, "KEY VALUE" lines.
set -u
out=$1/results.txt
: > "$out"
note() { echo "$1 $2" >> "$out"; }

ncat --vsock -v -l 5000 --sh-exec 'read line; echo "guest got: $line"' 2> /tmp/listener.err &
listener=$!
ncat --vsock -v -l 5001 --sh-exec 'read line; echo "guest got: $line"' 2> /tmp/listener2.err &
listener2=$!
ncat --vsock -l 5002 < /dev/null > /dev/null 2> /tmp/gate.err &
gate=$!
ncat --vsock -v -l 5003 < /dev/null 2> /tmp/hybrid-in.err > "$1/hybrid-in.bin" &
hybrid_in=$!
end=$((SECONDS + 60))
until { grep -qi "listening on" /tmp/listener.err && grep -qi "listening on" /tmp/listener2.err \
        && grep -qi "listening on" /tmp/hybrid-in.err; } || ((SECONDS > end)); do
  sleep 0.1
done
head -c 1048576 /dev/urandom > /tmp/up
note up_sha256 "$(sha256sum < /tmp/up | cut -d' ' -f1)"
ncat --vsock --send-only 2 7100 < /tmp/up 2> /tmp/up.err
note up_exit $?
note up_stderr "$(tr '\n' ' ' < /tmp/up.err)"
echo "hello from the guest" | ncat --vsock --send-only 2 7000 2> /tmp/shared.err
note shared_exit $?
note shared_stderr "$(tr '\n' ' ' < /tmp/shared.err)"
echo "ready 5000" | ncat --vsock --send-only 2 6000 2> /tmp/ready.err
note ready_exit $?
note ready_stderr "$(tr '\n' ' ' < /tmp/ready.err)"
wait $listener
note listener_exit $?
wait $listener2
note listener2_exit $?
wait $hybrid_in
note hybrid_in_exit $?
note hybrid_in_bytes "$(wc -c < "$1/hybrid-in.bin")"
note hybrid_in_sha256 "$(sha256sum < "$1/hybrid-in.bin" | cut -d' ' -f1)"
wait $gate
note gate_exit $?
note done 1
