#!/usr/bin/env bash
# scripts/bench/compare-jmh.sh [PAIRS] [OUT_DIR]: JMH's StreamThroughput and `vsock perf --compare`, back
# to back PAIRS times (default 3), for issue 18's question whether the two agree. Run on an idle machine.
# Writes OUT_DIR/jmh-N.json and OUT_DIR/compare-N.json (default target/compare-jmh) and prints, per
# pair, each tool's Gbit/s per transport and its vsock/TCP and vsock/Unix ratios.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pairs=${1:-3}
out=${2:-$root/target/compare-jmh}
mkdir -p "$out"
cd "$root"
for i in $(seq 1 "$pairs"); do
  echo "pair $i: $(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg)" >&2
  ./bench StreamThroughput -f 1 -wi 3 -i 5 -p transport=vsock,tcp,unix -rf json -rff "$out/jmh-$i.json" > "$out/jmh-$i.log" 2>&1
  ./vsock perf --compare --json > "$out/compare-$i.json"
done
python3 - "$out" "$pairs" <<'PY'
import json, sys
out, pairs = sys.argv[1], int(sys.argv[2])
for i in range(1, pairs + 1):
    jmh = {r['params']['transport']: r['primaryMetric']['score'] * 8 / 1e9 for r in json.load(open(f'{out}/jmh-{i}.json'))}
    cmp = {t['name']: t['stats']['median'] for t in json.load(open(f'{out}/compare-{i}.json'))['transports']}
    for name, g in (('JMH', jmh), ('compare', cmp)):
        print(f"pair {i} {name:8} vsock {g['vsock']:6.1f}  tcp {g['tcp']:6.1f}  unix {g['unix']:6.1f}  "
              f"vsock/tcp {g['vsock'] / g['tcp']:5.2f}  vsock/unix {g['vsock'] / g['unix']:5.2f}")
PY
