#!/usr/bin/env bash
# scripts/bench/bench-proxy.sh [BYTES] [ROUNDS]: relay throughput of vsock proxy against socat doing a
# relay (docs/benchmarks.md, "vsock proxy against socat"). socat: TCP -> socat -> TCP. vsock proxy:
# TCP -> vsock proxy --tcp-listen -> a shared machine of this run's own name -> vsock proxy -> TCP (two
# proxy processes and the machine's daemon). The same source (head -c BYTES /dev/zero | socat) and sink
# (socat to /dev/null) for both, 128 KiB socat buffers everywhere; a rate is BYTES over the time until
# the sink has everything. The rounds interleave the two; one warm-up transfer for the JVMs first.
# A third relay for scale, the same shape as the proxy's without vsock: TCP -> socat -> a Unix socket ->
# socat -> TCP (two relaying processes and one local hop between them, as two proxies on a machine).
# VSOCK4J_BENCH_DIRECT_LINK=1 adds a fourth: the same two proxies, each on one end of a single Unix link
# between their JVMs (io.vsock4j.bench.LinkedProxy, no daemon), run in alternating order with the shared
# machine's: what a direct path between two processes of a shared machine could give at most.
# VSOCK4J_BENCH_SHARED_MEMORY=1 adds another: two JVMs relaying through a ring in shared memory
# (io.vsock4j.bench.SharedMemoryRelay; no vsock at all), the cheapest relay two Java processes can make.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bytes=${1:-1073741824}
rounds=${2:-5}
vsock="$root/vsock"
machine="bench-proxy-$$"
work="$(mktemp -d)"
pids=()
ring="/dev/shm/bench-proxy-$$.ring" # VSOCK4J_BENCH_SHARED_MEMORY's ring, and its bell beside it
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work" "$ring" "$ring.bell"' EXIT
"$vsock" --help > /dev/null # builds now if sources changed: two proxies starting at once would both build
printf 'allowlist:\n- {address: 127.0.0.1, port: 19011}\n' > "$work/allow.yaml"
socat -b 131072 TCP-LISTEN:19000,reuseaddr,fork TCP:127.0.0.1:19001 & pids+=($!)
socat -b 131072 UNIX-LISTEN:"$work/hop.sock",fork TCP:127.0.0.1:19021 & pids+=($!)
socat -b 131072 TCP-LISTEN:19020,reuseaddr,fork UNIX-CONNECT:"$work/hop.sock" & pids+=($!)
"$vsock" --transport shared --machine "$machine" proxy --config "$work/allow.yaml" 7400 127.0.0.1 19011 2>"$work/p1.err" & pids+=($!)
"$vsock" --transport shared --machine "$machine" proxy --tcp-listen 127.0.0.1:19010 --to 1:7400 2>"$work/p2.err" & pids+=($!)
until grep -q "vsock proxy" "$work/p1.err" 2>/dev/null && grep -q "vsock proxy" "$work/p2.err" 2>/dev/null; do sleep 0.2; done
direct=${VSOCK4J_BENCH_DIRECT_LINK:-0}
shm=${VSOCK4J_BENCH_SHARED_MEMORY:-0}
if [ "$direct" = 1 ] || [ "$shm" = 1 ]; then # both run classes of vsock4j-bench
  . "$root/scripts/env.sh"; vsock4j_find_java > /dev/null
  (cd "$root" && mvn -B -q -ntp -DskipTests package -pl vsock4j-bench -am) >&2 # its terminal escapes stay off the rates
fi
if [ "$direct" = 1 ]; then
  linked=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED ${VSOCK4J_JAVA_OPTS:-}
    -cp "$root/vsock4j-bench/target/classes:$root/vsock4j-cli/target/vsock4j-cli.jar:$root/vsock4j-cli/target/lib/*"
    io.vsock4j.bench.LinkedProxy "$work/link.sock")
  printf 'allowlist:\n- {address: 127.0.0.1, port: 19031}\n' > "$work/allow-direct.yaml"
  "${linked[@]}" host proxy --config "$work/allow-direct.yaml" 7401 127.0.0.1 19031 2>"$work/p3.err" & pids+=($!)
  until [ -S "$work/link.sock" ]; do sleep 0.2; done
  "${linked[@]}" guest proxy --tcp-listen 127.0.0.1:19030 --to 2:7401 2>"$work/p4.err" & pids+=($!)
  until grep -q "vsock proxy" "$work/p3.err" 2>/dev/null && grep -q "vsock proxy" "$work/p4.err" 2>/dev/null; do sleep 0.2; done
fi
if [ "$shm" = 1 ]; then
  relay=("$JAVA_HOME/bin/java" ${VSOCK4J_JAVA_OPTS:-} -cp "$root/vsock4j-bench/target/classes" io.vsock4j.bench.SharedMemoryRelay)
  "${relay[@]}" in "$ring" 19040 2>"$work/p5.err" & pids+=($!)
  until [ -S "$ring.bell" ]; do sleep 0.2; done
  "${relay[@]}" out "$ring" 127.0.0.1 19041 2>"$work/p6.err" & pids+=($!)
  until grep -q "SharedMemoryRelay out" "$work/p6.err" 2>/dev/null; do sleep 0.2; done
fi
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
cpu_seconds() { # $1 a pid: user + system CPU so far of it and its reaped children (socat's forks), seconds
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13 + $14 + $15) / hz }' "/proc/$1/stat"
}
relays=("${pids[@]:3}") # the proxies (and with a direct link, the linked proxies), in start order
daemon_pid=$(cat "${XDG_RUNTIME_DIR:-/nonexistent}/vsock4j/$machine/daemon.pid" "/tmp/vsock4j-$(id -u)/$machine/daemon.pid" 2>/dev/null | head -1 || true)
run 19011 19010 > /dev/null
# The relays that take turns after the two socats: "name sink-port listen-port" each.
turns=("vsock proxy:19011:19010")
[ "$direct" = 1 ] && turns+=("over a direct link:19031:19030")
[ "$shm" = 1 ] && turns+=("two Java relays over shared memory:19041:19040")
for turn in "${turns[@]:1}"; do
  IFS=: read -r _ sink_port listen_port <<< "$turn"; run "$sink_port" "$listen_port" > /dev/null
done
declare -A cpu0
for pid in "${pids[0]}" "${relays[@]}" $daemon_pid; do cpu0[$pid]=$(cpu_seconds "$pid"); done
for i in $(seq "$rounds"); do
  line="round $i: socat $(run 19001 19000) MiB/s, socat over a unix hop $(run 19021 19020) MiB/s"
  declare -A rate=()
  n=${#turns[@]}
  for k in $(seq 0 $((n - 1))); do # each round starts one turn later than the one before
    IFS=: read -r name sink_port listen_port <<< "${turns[$(((i - 1 + k) % n))]}"
    rate[$name]=$(run "$sink_port" "$listen_port")
  done
  for turn in "${turns[@]}"; do
    IFS=: read -r name _ <<< "$turn"; line="$line, $name ${rate[$name]} MiB/s"
  done
  echo "$line"
done
per_gib() { # $1 a pid: CPU seconds it spent per GiB relayed in the rounds
  echo "scale=2; ($(cpu_seconds "$1") - ${cpu0[$1]}) * 1073741824 / ($bytes * $rounds)" | bc
}
cpu="CPU seconds per GiB in the rounds: socat's relay $(per_gib "${pids[0]}"); shared-machine proxies $(per_gib "${relays[0]}") (vsock -> TCP) and $(per_gib "${relays[1]}") (TCP -> vsock)"
[ -n "$daemon_pid" ] && cpu="$cpu, its daemon $(per_gib "$daemon_pid")"
[ "$direct" = 1 ] && cpu="$cpu; direct-link proxies $(per_gib "${relays[2]}") and $(per_gib "${relays[3]}")"
[ "$shm" = 1 ] && cpu="$cpu; shared-memory relays $(per_gib "${pids[-2]}") (in) and $(per_gib "${pids[-1]}") (out)"
echo "$cpu"
