#!/usr/bin/env bash
# Runs inside a QEMU guest whose vsock device is vsock4j's vhost-user device in the test JVM (guest/run.sh
# --vhost-user-vsock; ProxyDeviceInGuestIT holds the host side). The guest is the middle of the
# relay: socat takes each connection to its vsock port 5000 and connects it to the host's port 7000,
# where the test's vsock-to-TCP proxy listens, so every byte the host's TCP-to-vsock proxy sends crosses
# the device into this kernel and back out again. -t 30: after one direction's EOF socat keeps relaying
# the other for up to 30 s (its default, 0.5 s, would cut a half-closed connection short).
# Says "ready" at host port 6999 once socat listens; powers off when the host connects to port 5999.
# Usage: proxy-device-guest.sh RESULTS_DIR (socat's log goes there).
set -u
dir=$1
socat -d -d -t 30 -b 65536 VSOCK-LISTEN:5000,fork VSOCK-CONNECT:2:7000 2> "$dir/socat.log" &
socat_pid=$!
ncat --vsock -v -l 5999 < /dev/null > /dev/null 2> "$dir/gate.err" &
gate=$!
end=$((SECONDS + 60))
until { grep -q "listening on" "$dir/socat.log" && grep -qi "listening on" "$dir/gate.err"; } \
      || ! kill -0 $socat_pid 2> /dev/null || ((SECONDS > end)); do
  sleep 0.1
done
echo "ready $(grep -c 'listening on' "$dir/socat.log")" | ncat --vsock --send-only 2 6999
echo "ready_exit $?"
wait $gate
echo "gate_exit $?"
kill $socat_pid 2> /dev/null
wait $socat_pid 2> /dev/null
echo "done"
