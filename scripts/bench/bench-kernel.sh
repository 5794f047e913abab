#!/usr/bin/env bash
# scripts/bench/bench-kernel.sh [BYTES] [ROUNDS] [COUNT]: kernel vsock throughput inside the QEMU guest, C vs the
# vsock4j kernel provider, over CID 1 with 64 KiB writes. Builds the C program with gcc and the test
# classes with Maven first. Each Java side first warms up through the loopback in its own JVM, in rounds
# of VSOCK4J_BENCH_WARM_UP_BYTES (default 256 MiB) until the JIT is quiet (KernelThroughput says how).
# Each round runs every pair once; a pair's two processes make COUNT transfers of BYTES in a row (later
# ones in the same JVM show the steady state; KernelThroughput says why).
# "bare" is the JVM floor under the provider: the C program's loop made from Java (BareVsock).
# Results: docs/benchmarks-kernel.md.
# VSOCK4J_BENCH_JVM_OPTS adds options to the Java sides' JVMs (for experiments; docs/benchmarks-kernel.md names the runs that used any).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bytes=${1:-1073741824}
rounds=${2:-2}
count=${3:-4}
out="$root/vsock4j-core/target/bench"
mkdir -p "$out"
. "$root/scripts/bench/kernel-bench-setup.sh"
kernel_bench_setup "$out" vsock_bench
c="$out/vsock_bench"
rm -f "$out"/hs_err_*.log
# VSOCK4J_BENCH_PAIRS picks the pairs, each RECEIVER:SENDER with C, vsock4j or bare on either side.
pairs=${VSOCK4J_BENCH_PAIRS:-C:C vsock4j:vsock4j C:vsock4j vsock4j:C bare:C C:bare}
side() { # KIND recv|send: the command for one side of a pair
  case $1 in
    C) echo "$c $2" ;;
    vsock4j) echo "$java $2" ;;
    bare) echo "$java bare-$2" ;;
    *) echo "bench-kernel.sh: VSOCK4J_BENCH_PAIRS: unknown side '$1' (C, vsock4j or bare)" >&2; return 1 ;;
  esac
}
pair_lines=
for p in $pairs; do
  case $p in *:*) ;; *) echo "bench-kernel.sh: VSOCK4J_BENCH_PAIRS: '$p' is not RECEIVER:SENDER" >&2; exit 2 ;; esac
  receiver=$(side "${p%%:*}" recv) && sender=$(side "${p#*:}" send) || exit 2
  pair_lines+=$'\n'"  pair ${p%%:*} \"$receiver\" ${p#*:} \"$sender\""
done
# Each pair: receiver in the background, sender in the foreground (it retries until the receiver listens).
# A JVM can die under TCG (guest/README.md, "Known problem"): then the other side is killed and the pair
# runs again, at most twice, and the crash is reported; its hs_err file lands in $out.
script='
port=5000
pair() { # RECEIVER-NAME RECEIVER-COMMAND SENDER-NAME SENDER-COMMAND
  for attempt in 1 2 3; do
    echo "receiver=$1 sender=$3"
    $2 $port '"$count"' & r=$!
    if $4 1 $port '"$bytes $count"' && wait $r; then port=$((port+1)); return; fi
    kill $r 2>/dev/null; wait $r 2>/dev/null
    echo "pair failed (attempt $attempt), see hs_err files"; port=$((port+1))
  done
}
for i in $(seq '"$rounds"'); do'"$pair_lines"'
done'
# Multi-threaded TCG: sender and receiver run in parallel, as on hardware (crashes are retried above).
VSOCK4J_GUEST_TCG_THREAD=${VSOCK4J_GUEST_TCG_THREAD:-multi} \
  guest/run.sh --timeout 3600 --share "$out" -- bash -c "$script" | tee "$out/results.txt"
