#!/usr/bin/env bash
# capture/record-golden.sh [OUTDIR]: records the golden traces, the Linux kernel's own packets for each
# scenario of capture/scenarios.py, over vsock_loopback inside the project's QEMU guest (guest/run.sh),
# with the kernel's vsockmon device and tcpdump capturing. One pcap per scenario, LINKTYPE_VSOCK (271),
# snaplen 128 (the 32-byte vsockmon header, the 44-byte virtio header, 52 bytes of payload), written to
# OUTDIR (default: vsock4j-core/src/test/resources/golden, where GoldenTraceTest reads them).
#
# The traces are committed: the tests read them and need no QEMU. Run this again only to regenerate
# them (another guest kernel, a new scenario); it takes about a minute. Nothing here opens a kernel
# AF_VSOCK socket on the host: the scenarios run in the guest, which has no vsock device at all.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
scenarios=(refused stream unread seqpacket emsgsize)
snaplen=128

if [ "${1:-}" = "--in-guest" ]; then
  out=$2
  grep -qw vsock4j.guest=1 /proc/cmdline || { echo "record-golden.sh: not in the vsock4j guest" >&2; exit 1; }
  modprobe vsockmon
  ip link add type vsockmon
  ip link set vsockmon0 up
  uname -r > "$out/KERNEL"
  for s in "${scenarios[@]}"; do
    rm -f "$out/$s.pcap"
    tcpdump -Z root -i vsockmon0 -s "$snaplen" -U -w "$out/$s.pcap" 2>"$out/tcpdump-$s.log" &
    pid=$!
    # tcpdump writes the file header once it listens: start the scenario only then.
    for _ in $(seq 100); do grep -q 'listening on' "$out/tcpdump-$s.log" && break; sleep 0.05; done
    /usr/bin/python3 "$here/scenarios.py" "$s"
    sleep 0.5
    kill -INT "$pid"
    wait "$pid" || true
    echo "$s: $(grep 'packets captured' "$out/tcpdump-$s.log")"
    rm -f "$out/tcpdump-$s.log"
  done
  exit 0
fi

out=$(mkdir -p "${1:-$root/vsock4j-core/src/test/resources/golden}" && cd "${1:-$root/vsock4j-core/src/test/resources/golden}" && pwd)
"$here/setup.sh"
"$root/guest/run.sh" --timeout 600 --share "$out" -- bash "$here/record-golden.sh" --in-guest "$out"
echo "record-golden.sh: traces of $(cat "$out/KERNEL") in $out"
