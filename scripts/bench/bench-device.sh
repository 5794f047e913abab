#!/usr/bin/env bash
# scripts/bench/bench-device.sh [BYTES] [ROUNDS]: throughput through vsock4j's vhost-user-vsock device
# against the same guest's own kernel loopback, in one guest boot (docs/benchmarks.md, "The device").
# The JVM (io.vsock4j.bench.DeviceThroughput) is the host of guest 3; in the guest the C program
# scripts/bench/vsock_bench.c sends and receives with 64 KiB writes. Each round runs, in turn: the
# guest's loopback (both ends in the guest, CID 1), guest -> JVM (the JVM's receiver reports), and
# JVM -> guest (the guest's receiver reports). Multi-threaded TCG by default: no JVM runs in the guest,
# so the JIT crashes of guest/README.md do not apply. VSOCK4J_GUEST_TCG_THREAD=single runs the guest as
# every other guest test does (guest/run.sh's default), where the guest's two vCPUs share one host
# thread. Run on an idle machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bytes=${1:-1073741824}
rounds=${2:-5}
. "$root/scripts/env.sh"
vsock4j_find_java
out="$root/vsock4j-bench/target/bench-device"
mkdir -p "$out"
rm -f "$out/vm3.sock" "$out/guest.txt" "$out/jvm.txt" # before the JVM starts: the wait below must not read the last run's "ready"
gcc -O2 -Wall -o "$out/vsock_bench" "$root/scripts/bench/vsock_bench.c"
(cd "$root" && mvn -B -q -ntp -DskipTests package -pl vsock4j-bench -am)
cp="$root/vsock4j-bench/target/classes:$root/vsock4j-core/target/classes"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" io.vsock4j.bench.DeviceThroughput "$out/vm3.sock" > "$out/jvm.txt" 2>&1 &
jvm=$!
trap 'kill $jvm 2> /dev/null' EXIT
until grep -q ready "$out/jvm.txt" 2> /dev/null; do sleep 0.1; done
cat > "$out/guest.sh" <<GUEST
set -u
b=$out/vsock_bench
# The guest's context switches and interrupts per MiB over one transfer (all CPUs, from /proc/stat).
count() { awk '/^ctxt/ {c=\$2} /^intr/ {i=\$2} END {print c, i}' /proc/stat; }
per_mib() { echo "\$1 \$2" | awk -v mib=\$(($bytes / 1048576)) '{split(\$1, a, ","); split(\$2, b, ","); printf "guest ctxt/MiB=%.1f intr/MiB=%.1f", (b[1]-a[1])/mib, (b[2]-a[2])/mib}'; }
for r in \$(seq 1 $rounds); do
  \$b recv 5300 > /tmp/lo.txt & sleep 0.5; c0=\$(count | tr ' ' ,); \$b send 1 5300 $bytes; wait; c1=\$(count | tr ' ' ,)
  echo "round \$r loopback \$(cat /tmp/lo.txt) \$(per_mib \$c0 \$c1)"
  c0=\$(count | tr ' ' ,); \$b send 2 5201 $bytes; c1=\$(count | tr ' ' ,)
  echo "round \$r guest->jvm \$(per_mib \$c0 \$c1)"
  \$b recv 5202 > /tmp/down.txt & sleep 0.5; c0=\$(count | tr ' ' ,); echo "send 5202 $bytes" | ncat --vsock --send-only 2 5200; wait; c1=\$(count | tr ' ' ,)
  echo "round \$r jvm->guest \$(cat /tmp/down.txt) \$(per_mib \$c0 \$c1)"
done
GUEST
VSOCK4J_GUEST_TCG_THREAD=${VSOCK4J_GUEST_TCG_THREAD:-multi} "$root/guest/run.sh" --timeout 1800 --vhost-user-vsock "$out/vm3.sock" --share "$out" \
  -- bash "$out/guest.sh" | tee "$out/guest.txt"
sleep 1
echo "--- the JVM's receiver (guest -> JVM):"
grep "guest->jvm" "$out/jvm.txt"
echo "--- where the time went (TransferCost; JVM -> guest is timed at the sender, to its close):"
grep "cost" "$out/jvm.txt"
