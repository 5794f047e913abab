#!/usr/bin/env bash
# scripts/bench/bench-netty-grpc.sh [ROUNDS] [OUT_DIR]: issue 15's comparisons, Netty and gRPC over vsock4j
# (CID 1, the Java loopback) against the same over Netty's NIO TCP on 127.0.0.1. Each round is one JMH
# fork per benchmark with both transports in it (NettyEcho: 16 MiB echo stream and 64-byte round trip;
# GrpcUnary: calls per second and time per call), and rounds alternate which transport runs first, so
# a slow patch of the machine does not fall on one side only. Prints, per round, each score and the
# vsock/TCP ratios, then the medians over rounds. Writes OUT_DIR/round-N.json (default
# target/bench-netty-grpc). Run on an idle machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds=${1:-3}
out=${2:-$root/target/bench-netty-grpc}
mkdir -p "$out"
cd "$root"
for i in $(seq 1 "$rounds"); do
  order=$([ $((i % 2)) -eq 1 ] && echo vsock,tcp || echo tcp,vsock)
  echo "round $i ($order): $(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg)" >&2
  ./bench 'NettyEcho\.|GrpcUnary' -f 1 -wi 3 -i 5 -p transport="$order" -rf json -rff "$out/round-$i.json" > "$out/round-$i.log" 2>&1
done
python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rows = {}
for i in range(1, rounds + 1):
    for r in json.load(open(f'{out}/round-{i}.json')):
        name = r['benchmark'].rsplit('.', 1)[1]
        m = r['primaryMetric']
        if r['mode'] == 'sample':
            key, value = name + ' p50 us', m['scorePercentiles']['50.0']
        elif name == 'stream':
            key, value = 'stream Gbit/s (both ways)', m['score'] * 16 * 2**20 * 2 * 8 / 1e9
        else:
            key, value = name + ' ops/s', m['score']
        rows.setdefault(key, {}).setdefault(r['params']['transport'], []).append(value)
for key, by in rows.items():
    v, t = by['vsock'], by['tcp']
    ratios = ' '.join(f'{a / b:.2f}' for a, b in zip(v, t))
    print(f'{key:28} vsock {" ".join(f"{x:9.2f}" for x in v)}  tcp {" ".join(f"{x:9.2f}" for x in t)}  '
          f'vsock/tcp per round {ratios}  medians {statistics.median(v):.2f} / {statistics.median(t):.2f} = '
          f'{statistics.median(v) / statistics.median(t):.2f}')
PY
