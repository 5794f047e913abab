#!/usr/bin/env bash
# scripts/bench/perf-kernel.sh [BYTES] [OMIT_SECONDS] [PAIR...]: `vsock --transport kernel perf` as receiver and
# sender, against itself and against the C loop (scripts/bench/vsock_bench.c, which speaks vsock_perf's wire
# protocol: connect, send, close), one transfer per pair, all in one boot of the QEMU guest (multi-threaded TCG
# unless VSOCK4J_GUEST_TCG_THREAD says otherwise). Defaults: 1073741824 bytes, --omit 2, pairs
# "c:c java:java c:java java:c" (RECEIVER:SENDER). A Java end prints its warm rate (after --omit) and its
# whole-run rate; the C end prints its whole run. Outputs in vsock4j-cli/target/perf-kernel/. Results:
# docs/benchmarks-kernel.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bytes=${1:-1073741824}
omit=${2:-2}
shift $(( $# < 2 ? $# : 2 ))
out="$root/vsock4j-cli/target/perf-kernel"
mkdir -p "$out"
rm -f "$out"/*.rx "$out"/*.tx "$out"/*.err "$out"/exits.txt
gcc -O2 -Wall -o "$out/vsock_bench" "$root/scripts/bench/vsock_bench.c"
"$root/vsock" --version > /dev/null # builds the launcher's jar now if a source changed, not inside the guest
VSOCK4J_GUEST_TCG_THREAD=${VSOCK4J_GUEST_TCG_THREAD:-multi} "$root/guest/run.sh" --retry-jvm-crash 2 --timeout 3600 \
  --share "$out" -- bash "$root/vsock4j-cli/src/test/guest/perf-in-guest.sh" "$root/vsock" "$out" "$out/vsock_bench" \
  "$bytes" "$omit" "$@" > "$out/guest-output.log" 2>&1 || { cat "$out/guest-output.log"; exit 1; }
cat "$out/exits.txt"
for f in "$out"/*.rx; do
  pair=$(basename "$f" .rx)
  echo "== receiver-sender $pair"
  grep -h -E "performance|whole run|c-recv" "$f" "$out/$pair.tx" || true
done
