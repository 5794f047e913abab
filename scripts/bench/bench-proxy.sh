#!/usr/bin/env bash
# scripts/bench/bench-proxy.sh [BYTES] [ROUNDS]: relay throughput of vsock proxy against socat doing a
# relay (docs/benchmarks.md, "vsock proxy against socat"). socat: TCP -> socat -> TCP. vsock proxy:
# TCP -> vsock proxy --tcp-listen -> a shared machine of this run's own name -> vsock proxy -> TCP (two
# proxy processes and the machine's daemon). The same source (head -c BYTES /dev/zero | socat) and sink
# (socat to /dev/null) for both, 128 KiB socat buffers everywhere; a rate is BYTES over the time until
# the sink has everything. The rounds interleave the two; one warm-up transfer for the JVMs first.
# A third relay for scale, the same shape as the proxy's without vsock: TCP -> socat -> a Unix socket ->
# socat -> TCP (two relaying processes and one local hop between them, as two proxies on a machine).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bytes=${1:-1073741824}
rounds=${2:-5}
vsock="$root/vsock"
machine="bench-proxy-$$"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
"$vsock" --help > /dev/null # builds now if sources changed: two proxies starting at once would both build
printf 'allowlist:\n- {address: 127.0.0.1, port: 19011}\n' > "$work/allow.yaml"
socat -b 131072 TCP-LISTEN:19000,reuseaddr,fork TCP:127.0.0.1:19001 & pids+=($!)
socat -b 131072 UNIX-LISTEN:"$work/hop.sock",fork TCP:127.0.0.1:19021 & pids+=($!)
socat -b 131072 TCP-LISTEN:19020,reuseaddr,fork UNIX-CONNECT:"$work/hop.sock" & pids+=($!)
"$vsock" --transport shared --machine "$machine" proxy --config "$work/allow.yaml" 7400 127.0.0.1 19011 2>"$work/p1.err" & pids+=($!)
"$vsock" --transport shared --machine "$machine" proxy --tcp-listen 127.0.0.1:19010 --to 1:7400 2>"$work/p2.err" & pids+=($!)
until grep -q "vsock proxy" "$work/p1.err" 2>/dev/null && grep -q "vsock proxy" "$work/p2.err" 2>/dev/null; do sleep 0.2; done
run() { # $1 the sink's port, $2 the port to send to; prints MiB/s
  socat -b 131072 -u TCP-LISTEN:"$1",reuseaddr OPEN:/dev/null,wronly & local sink=$!
  sleep 0.3
  local t0 t1
  t0=$(date +%s.%N)
  head -c "$bytes" /dev/zero | socat -b 131072 -u - TCP:127.0.0.1:"$2"
  wait "$sink"
  t1=$(date +%s.%N)
  echo "scale=1; $bytes / ($t1 - $t0) / 1048576" | bc
}
run 19011 19010 > /dev/null
for i in $(seq "$rounds"); do
  echo "round $i: socat $(run 19001 19000) MiB/s, socat over a unix hop $(run 19021 19020) MiB/s, vsock proxy $(run 19011 19010) MiB/s"
done
