#!/usr/bin/env bash
# scripts/bench/bench-proxy-guest.sh [BYTES] [ROUNDS]: relay throughput of `vsock proxy` on the kernel's
# AF_VSOCK, inside the project's QEMU guest (vsock_loopback, CID 1), against socat doing the same relay in
# the same guest boot (docs/benchmarks.md, "vsock proxy against socat in the guest"). Two relays, each
# run by both:
#   vsock -> TCP: vsock proxy 7400 127.0.0.1 19011            socat VSOCK-LISTEN:7500,fork TCP:127.0.0.1:19001
#   TCP -> vsock: vsock proxy --tcp-listen 19010 --to 1:7410   socat TCP-LISTEN:19000,fork VSOCK-CONNECT:1:7510
# The same source (socat reading BYTES of /dev/zero, without head's pipe: every copy counts under TCG)
# and sink (socat to /dev/null) for all, 128 KiB socat buffers everywhere; a rate is BYTES over the time
# until the sink has everything. Each round runs each direction by every relay in turn (proxy, socat, the
# two C relays); two warm-up transfers per proxy first, for the JIT. Per transfer it also reads the CPU the relay process used (the socat listener's children included)
# and how busy the guest's vCPUs were, and at the end each proxy JVM's busiest threads.
# Two yardsticks run the same relays in the same rounds: scripts/bench/relay_c.c, the smallest relay in C
# (a thread per direction, 128 KiB steps), once by read/write ("C relay, read/write") and once by splice
# through a pipe ("C relay, splice"); gcc builds it here first.
# VSOCK4J_BENCH_DOWNLOADS=1 adds a third direction ("dl"): downloads through the TCP -> vsock relays, where
# the vsock service they dial sends and the TCP client receives.
# VSOCK4J_BENCH_BASELINE=DIR: a second checkout (git worktree add DIR COMMIT; DIR/vsock --help builds it) whose
# proxies run beside this checkout's in the same rounds, in alternating order ("proxy (baseline)"), with the
# median of the per-round ratios and of the relay CPU per MiB at the end: an A/B within one boot.
# Environment: VSOCK4J_GUEST_TCG_THREAD (run.sh's default, single, unless set), VSOCK4J_BENCH_JAVA_OPTS
# (extra JVM options for the proxies; -XX:TieredStopAtLevel=1 keeps C2, whose compiles take minutes of
# emulated CPU here, from running through the measured rounds: docs/benchmarks.md has both).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bytes=${1:-67108864}
rounds=${2:-5}
out="$root/vsock4j-cli/target/bench-proxy-guest"
mkdir -p "$out"
rm -f "$out/guest.txt"
gcc -O2 -Wall -pthread -o "$out/relay_c" "$root/scripts/bench/relay_c.c"
"$root/vsock" --help > /dev/null # builds the launcher's jar if the sources changed: the guest cannot
baseline=${VSOCK4J_BENCH_BASELINE:-}
if [ -n "$baseline" ]; then
  baseline=$(cd "$baseline" && pwd)
  case $baseline/ in /tmp/*) echo "VSOCK4J_BENCH_BASELINE=$baseline: the guest does not see /tmp; put the checkout elsewhere" >&2; exit 2 ;; esac
  "$baseline/vsock" --help > /dev/null
fi
cat > "$out/guest.sh" <<GUEST
set -u
vsock=$root/vsock
relay_c=$out/relay_c
baseline=$baseline
downloads=${VSOCK4J_BENCH_DOWNLOADS:-0}
bytes=$bytes
rounds=$rounds
GUEST
cat >> "$out/guest.sh" <<'GUEST'
modprobe vsock_diag # for ss --vsock: the sinks are waited for until they listen
ticks() { # CPU of a process and its reaped children, in clock ticks (fields 14-17 of /proc/PID/stat)
  awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat"
}
threads() { # CPU of a JVM's JIT compiler threads and of its GC and VM threads, in clock ticks: "JIT GC"
  cat /proc/$1/task/*/stat 2> /dev/null | awk '{ name = $0; sub(/^[^(]*\(/, "", name); sub(/\).*$/, "", name); sub(/^.*\) /, "")
    if (name ~ /^C[12] CompilerThre/) jit += $12 + $13; else if (name ~ /^(GC Thread|G1 |VM Thread)/) gc += $12 + $13 }
    END { print jit + 0, gc + 0 }'
}
busy() { # the guest's busy and total ticks over all vCPUs
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}
printf 'allowlist:\n- {address: 127.0.0.1, port: 19011}\n' > /tmp/allow.yaml
"$vsock" --transport kernel proxy --config /tmp/allow.yaml 7400 127.0.0.1 19011 2> /tmp/p-v2t.err & p_v2t=$!
"$vsock" --transport kernel proxy --tcp-listen 127.0.0.1:19010 --to 1:7410 2> /tmp/p-t2v.err & p_t2v=$!
socat -b 131072 VSOCK-LISTEN:7500,fork TCP:127.0.0.1:19001 & s_v2t=$!
socat -b 131072 TCP-LISTEN:19000,fork,reuseaddr VSOCK-CONNECT:1:7510 & s_t2v=$!
"$relay_c" copy v2t 7600 19021 2> /dev/null & c_v2t=$!
"$relay_c" copy t2v 19020 7610 2> /dev/null & c_t2v=$!
"$relay_c" splice v2t 7700 19031 2> /dev/null & z_v2t=$!
"$relay_c" splice t2v 19030 7710 2> /dev/null & z_t2v=$!
b_v2t= b_t2v=
if [ -n "$baseline" ]; then
  printf 'allowlist:\n- {address: 127.0.0.1, port: 19041}\n' > /tmp/allow-b.yaml
  "$baseline/vsock" --transport kernel proxy --config /tmp/allow-b.yaml 7420 127.0.0.1 19041 2> /tmp/b-v2t.err & b_v2t=$!
  "$baseline/vsock" --transport kernel proxy --tcp-listen 127.0.0.1:19040 --to 1:7430 2> /tmp/b-t2v.err & b_t2v=$!
else
  echo "vsock proxy: no baseline" | tee /tmp/b-v2t.err > /tmp/b-t2v.err
fi
start=$SECONDS
until grep -q "vsock proxy:" /tmp/p-v2t.err && grep -q "vsock proxy:" /tmp/p-t2v.err &&
      grep -q "vsock proxy:" /tmp/b-v2t.err && grep -q "vsock proxy:" /tmp/b-t2v.err; do
  kill -0 $p_v2t $p_t2v $b_v2t $b_t2v || { echo "a proxy died:"; cat /tmp/[pb]-*.err; exit 1; }
  sleep 0.2
done
echo "proxies listening after $((SECONDS - start)) s"

# xfer NAME RELAY_PID: one transfer through the relay NAME names; prints the rate, the relay process's CPU
# (as a share of one vCPU over the transfer; for a JVM, how much of it its JIT and GC threads had), and
# how busy the guest's vCPUs were
xfer() {
  local name=$1 relay=$2 sink src
  case $name in
    v2t-proxy) sink="TCP-LISTEN:19011,reuseaddr" src="VSOCK-CONNECT:1:7400" ;;
    v2t-baseline) sink="TCP-LISTEN:19041,reuseaddr" src="VSOCK-CONNECT:1:7420" ;;
    t2v-baseline) sink="VSOCK-LISTEN:7430" src="TCP:127.0.0.1:19040" ;;
    v2t-socat) sink="TCP-LISTEN:19001,reuseaddr" src="VSOCK-CONNECT:1:7500" ;;
    t2v-proxy) sink="VSOCK-LISTEN:7410" src="TCP:127.0.0.1:19010" ;;
    t2v-socat) sink="VSOCK-LISTEN:7510" src="TCP:127.0.0.1:19000" ;;
    v2t-ccopy) sink="TCP-LISTEN:19021,reuseaddr" src="VSOCK-CONNECT:1:7600" ;;
    t2v-ccopy) sink="VSOCK-LISTEN:7610" src="TCP:127.0.0.1:19020" ;;
    v2t-csplice) sink="TCP-LISTEN:19031,reuseaddr" src="VSOCK-CONNECT:1:7700" ;;
    t2v-csplice) sink="VSOCK-LISTEN:7710" src="TCP:127.0.0.1:19030" ;;
    # Downloads through the TCP -> vsock relays: the vsock service they dial is the source.
    dl-proxy) src="VSOCK-LISTEN:7410" sink="TCP:127.0.0.1:19010" ;;
    dl-baseline) src="VSOCK-LISTEN:7430" sink="TCP:127.0.0.1:19040" ;;
    dl-socat) src="VSOCK-LISTEN:7510" sink="TCP:127.0.0.1:19000" ;;
    dl-ccopy) src="VSOCK-LISTEN:7610" sink="TCP:127.0.0.1:19020" ;;
    dl-csplice) src="VSOCK-LISTEN:7710" sink="TCP:127.0.0.1:19030" ;;
  esac
  # Whichever end listens starts first, in the background; the other connects to it and is timed.
  local from=(socat -b 131072 -u OPEN:/dev/zero,readbytes="$bytes" "$src") to=(socat -b 131072 -u "$sink" OPEN:/dev/null,wronly)
  local listener=$sink first=("${to[@]}") second=("${from[@]}")
  case $src in *-LISTEN:*) listener=$src first=("${from[@]}") second=("${to[@]}") ;; esac
  "${first[@]}" & local waitpid=$!
  local port=${listener#*:}; port=${port%%,*}
  until if [ "${listener%%:*}" = TCP-LISTEN ]; then ss -Hltn "sport = :$port" | grep -q .; else ss -Hl --vsock | grep -q ":$port "; fi; do
    sleep 0.05
  done
  local c0 b0 t0 t1 c1 b1 j0 j1
  c0=$(ticks "$relay"); j0=$(threads "$relay"); b0=$(busy); t0=$(date +%s.%N)
  "${second[@]}"
  wait "$waitpid"
  t1=$(date +%s.%N)
  # socat's listener counts a connection's CPU once it has reaped the child that carried it.
  while [ -n "$(cat /proc/$relay/task/*/children 2> /dev/null)" ]; do sleep 0.05; done
  c1=$(ticks "$relay"); j1=$(threads "$relay"); b1=$(busy)
  awk -v n="$name" -v bytes="$bytes" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v b0="$b0" -v b1="$b1" -v j0="$j0" -v j1="$j1" \
    'BEGIN { split(b0, x, " "); split(b1, y, " "); split(j0, p, " "); split(j1, q, " "); w = t1 - t0
             printf "%s %.1f MiB/s relay-cpu %.0f%% jit %.0f%% gc %.0f%% guest-busy %.0f%%\n", n, bytes / w / 1048576,
                    (c1 - c0) / w, (q[1] - p[1]) / w, (q[2] - p[2]) / w, (y[1] - x[1]) / (y[2] - x[2]) * 100 }'
}
# proxies RELAY ROUND: this checkout's proxy for RELAY, and the baseline's if there is one, first in odd rounds
proxies() {
  local mine="round $2 $(xfer $1-proxy $(eval echo \$p_$1))"
  if [ -z "$baseline" ]; then echo "$mine"; return; fi
  if [ $(($2 % 2)) = 1 ]; then echo "$mine"; echo "round $2 $(xfer $1-baseline $(eval echo \$b_$1))"
  else echo "round $2 $(xfer $1-baseline $(eval echo \$b_$1))"; echo "round $2 $(xfer $1-proxy $(eval echo \$p_$1))"; fi
}
p_dl=$p_t2v b_dl=$b_t2v # a download runs through the TCP -> vsock relay the other way
for w in 1 2; do
  echo "warm-up $w: $(xfer v2t-proxy $p_v2t), $(xfer t2v-proxy $p_t2v)"
  [ -z "$baseline" ] || echo "warm-up $w, baseline: $(xfer v2t-baseline $b_v2t), $(xfer t2v-baseline $b_t2v)"
done
for r in $(seq 1 "$rounds"); do
  proxies v2t "$r"
  echo "round $r $(xfer v2t-socat $s_v2t)"
  echo "round $r $(xfer v2t-ccopy $c_v2t)"
  echo "round $r $(xfer v2t-csplice $z_v2t)"
  proxies t2v "$r"
  echo "round $r $(xfer t2v-socat $s_t2v)"
  echo "round $r $(xfer t2v-ccopy $c_t2v)"
  echo "round $r $(xfer t2v-csplice $z_t2v)"
  if [ "$downloads" = 1 ]; then
    proxies dl "$r"
    echo "round $r $(xfer dl-socat $s_t2v)"
    echo "round $r $(xfer dl-ccopy $c_t2v)"
    echo "round $r $(xfer dl-csplice $z_t2v)"
  fi
done
for p in $p_v2t $p_t2v; do
  echo "threads of $(head -c 60 /tmp/p-$([ $p = $p_v2t ] && echo v2t || echo t2v).err | tr -d '\n'), CPU seconds since start:"
  for t in /proc/$p/task/*; do # a pool thread may end while this runs
    awk '{ name = $0; sub(/^[^(]*\(/, "", name); sub(/\).*$/, "", name); sub(/^.*\) /, ""); printf "  %7.2f %s\n", ($12 + $13) / 100, name }' "$t/stat" 2> /dev/null
  done | sort -rn | head -n 6
done
kill $p_v2t $p_t2v $b_v2t $b_t2v $s_v2t $s_t2v $c_v2t $c_t2v $z_v2t $z_t2v
wait $p_v2t $p_t2v $b_v2t $b_t2v 2> /dev/null || true # the proxies' shutdown runs (a flight recording asked for in VSOCK4J_BENCH_JAVA_OPTS is written then)
GUEST
echo "host load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$root/guest/run.sh" --timeout 1800 --share "$out" --env "VSOCK4J_JAVA_OPTS=${VSOCK4J_BENCH_JAVA_OPTS:-}" \
  -- bash "$out/guest.sh" | tee "$out/guest.txt"
echo "host load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
# Medians over the rounds (CPU columns in % of one vCPU over the transfer), and each proxy's ratio to socat
# doing the same relay.
python3 - "$out/guest.txt" <<'PY'
import re, statistics, sys
rates = {}
for line in open(sys.argv[1]):
    m = re.match(r"round (\d+) (\S+) ([\d.]+) MiB/s relay-cpu (\d+)% jit (\d+)% gc (\d+)% guest-busy (\d+)%", line)
    if m:
        rates.setdefault(m[2], []).append((float(m[3]), int(m[4]), int(m[7]), int(m[5]), int(m[6]), int(m[1])))
print("| relay | by | median MiB/s | min | max | relay CPU | of it JIT, GC | guest busy | ratio to socat |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for relay, label in (("v2t", "vsock -> TCP"), ("t2v", "TCP -> vsock"), ("dl", "TCP -> vsock, download")):
    socat = statistics.median(x[0] for x in rates.get(relay + "-socat", [(float("nan"),)]))
    for by in ("socat", "proxy", "baseline", "ccopy", "csplice"):
        xs = rates.get(relay + "-" + by)
        if not xs:
            continue
        med = statistics.median(x[0] for x in xs)
        m = lambda i: statistics.median(x[i] for x in xs)
        print("| %s | %s | %.1f | %.1f | %.1f | %d %% | %d %%, %d %% | %d %% | %.2f |" % (
            label, {"socat": "socat", "proxy": "vsock proxy", "baseline": "proxy (baseline)", "ccopy": "C relay, read/write", "csplice": "C relay, splice"}[by], med, min(x[0] for x in xs), max(x[0] for x in xs),
            m(1), m(3), m(4), m(2), med / socat))
# With a baseline: the two proxies paired round by round, and the relay CPU per MiB (CPU % over MiB/s).
for relay in ("v2t", "t2v", "dl"):
    mine = {x[5]: x for x in rates.get(relay + "-proxy", [])}
    base = {x[5]: x for x in rates.get(relay + "-baseline", [])}
    both = sorted(set(mine) & set(base))
    if both:
        per_mib = lambda xs: statistics.median(x[1] / x[0] for x in xs)
        print("%s: proxy / baseline per round, median %.2f (%s); relay CPU per MiB, median: proxy %.2f, baseline %.2f" % (
            relay, statistics.median(mine[r][0] / base[r][0] for r in both),
            " ".join("%.2f" % (mine[r][0] / base[r][0]) for r in both), per_mib(mine.values()), per_mib(base.values())))
PY
