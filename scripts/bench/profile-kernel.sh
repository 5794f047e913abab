#!/usr/bin/env bash
# scripts/bench/profile-kernel.sh [BYTES]: where the CPU time goes in the kernel throughput benchmark.
# Runs C <- C, vsock4j <- C and C <- vsock4j once each inside the QEMU guest under
# `perf record -a` (cpu-clock samples, timestamps on CLOCK_MONOTONIC), and reports for the receiver's
# timed window only (its start= and seconds=, so a Java side's warm-up is left out) the samples per
# command and DSO and the top symbols. The C sides run as c_recv and c_send, the Java side as java.
# VSOCK4J_GUEST_TCG_THREAD=single runs all vCPUs on one host thread; the default, multi, is what
# bench-kernel.sh measures. Either way a side that is busy for the whole window collects samples in
# proportion to the window (docs/benchmarks-kernel.md): compare where samples go, not their totals.
# Output: vsock4j-core/target/bench/profile/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bytes=${1:-1073741824}
out="$root/vsock4j-core/target/bench/profile"
mkdir -p "$out"
rm -f "$out"/*
. "$root/scripts/bench/kernel-bench-setup.sh"
# The guest runs the host's perf (it sees the host's / read-only), so the host needs linux-perf.
if ! command -v perf >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf
fi
# The perf map lets perf name JIT-compiled methods (written to /tmp/perf-PID.map when the JVM exits).
VSOCK4J_BENCH_JVM_OPTS="-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit ${VSOCK4J_BENCH_JVM_OPTS:-}"
# Two copies of the C program, so the profile tells the receiver (c_recv) from the sender (c_send).
kernel_bench_setup "$out" c_recv c_send
script='
set -u
mount -t debugfs none /sys/kernel/debug 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
echo -1 > /proc/sys/kernel/perf_event_paranoid
mib=$(('"$bytes"' / 1048576))
port=5000
pair() { # NAME RECEIVER SENDER
  echo "== $1"
  perf record -q -k CLOCK_MONOTONIC -a -e cpu-clock/freq=997/ \
      -o /tmp/$1.data -- bash -c "$2 recv $port > /tmp/$1.recv & $3 send 1 $port '"$bytes"'; wait"
  port=$((port+1))
  cat /tmp/$1.recv
  set -- "$1" $(sed -n "s/.*seconds=\([0-9.]*\).*start=\([0-9.]*\).*/\2 \1/p" /tmp/$1.recv)
  [ $# -eq 3 ] || { echo "no result for $1"; return; }
  window="$2,$(awk -v s=$2 -v d=$3 "BEGIN { printf \"%.6f\", s + d }")"
  echo "-- cpu-clock samples in the timed window, by command and DSO (the Java side is java)"
  perf report -i /tmp/$1.data --time $window -n --sort comm,dso --stdio 2>&1 | grep -v "^#$\|^$\|^# [A-Z(.]\|^# *\.\.\.\|^# Overhead" | head -24
  echo "-- top symbols"
  perf report -i /tmp/$1.data --time $window -n --sort comm,sym --stdio 2>&1 | grep -v "^#$\|^$\|^# [A-Z(.]\|^# *\.\.\.\|^# Overhead" | head -40
}
pair c-c "'"$out/c_recv"'" "'"$out/c_send"'"
pair java-c "'"$java"'" "'"$out/c_send"'"
pair c-java "'"$out/c_recv"'" "'"$java"'"
'
VSOCK4J_GUEST_TCG_THREAD=${VSOCK4J_GUEST_TCG_THREAD:-multi} \
  guest/run.sh --timeout 1500 --share "$out" -- bash -c "$script" | tee "$out/profile.txt"
