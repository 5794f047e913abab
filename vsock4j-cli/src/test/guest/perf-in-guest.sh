#!/usr/bin/env bash
# Runs inside the QEMU guest (guest/run.sh), where the kernel has vsock_loopback: `vsock perf` on the kernel's
# AF_VSOCK as separate processes, with itself and with a C program that speaks vsock_perf's wire protocol
# (connect, send the bytes, close; the receiver reads one connection to EOF): scripts/bench/vsock_bench.c.
#   perf-in-guest.sh LAUNCHER RESULTS_DIR VSOCK_BENCH BYTES OMIT_SECONDS [PAIR...]
# BYTES in digits only (the C program's atoll); each PAIR is RECEIVER:SENDER, java or c on either side
# (default: c:c java:java c:java java:c).
# For each pair (receiver <- sender) it writes RESULTS_DIR/<receiver>-<sender>.rx and .tx (the two ends'
# stdout and stderr) and a line "<receiver>-<sender> rx_exit N tx_exit N" to RESULTS_DIR/exits.txt.
# Used by PerfInGuestIT (small transfers) and scripts/bench/perf-kernel.sh (the measurement).
set -u
vsock=$1 results=$2 c=$3 bytes=$4 omit=$5
shift 5
pairs=${*:-c:c java:java c:java java:c}
port=5100
: > "$results/exits.txt"

# The sender starts once the receiver listens: a Java receiver says so on stderr (a JVM under TCG on a busy
# host can take minutes to get there); the C one gets a second.
await_listener() { # FILE
  for _ in $(seq 1 6000); do
    grep -q "receiving on" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "no listener after 600 s" >> "$1"
}

pair() { # RECEIVER SENDER (java or c each)
  local name="$1-$2" rx tx
  port=$((port + 1))
  case $1 in
    java) "$vsock" --transport kernel perf --port $port --omit "$omit" > "$results/$name.rx" 2> "$results/$name.rx.err" & ;;
    c) "$c" recv $port > "$results/$name.rx" 2> "$results/$name.rx.err" & ;;
  esac
  rx=$!
  if [ "$1" = java ]; then await_listener "$results/$name.rx.err"; else sleep 1; fi
  case $2 in
    java) "$vsock" --transport kernel perf --sender 1 --port $port --bytes "$bytes" --omit "$omit" > "$results/$name.tx" 2> "$results/$name.tx.err" ;;
    c) "$c" send 1 $port "$bytes" > "$results/$name.tx" 2> "$results/$name.tx.err" ;;
  esac
  tx=$?
  wait $rx
  echo "$name rx_exit $? tx_exit $tx" >> "$results/exits.txt"
}

for p in $pairs; do
  pair "${p%%:*}" "${p#*:}"
done
