#!/usr/bin/env bash
# scripts/bench/bench-netty-guest.sh [JMH options]: issue 15's in-guest comparison. JMH's NettyEchoInGuest
# runs inside the project's QEMU guest (guest/README.md), where the kernel's AF_VSOCK may be used:
# vsock4j's Netty transport on the guest kernel's vsock loopback (CID 1) against Netty's native epoll
# TCP channel on 127.0.0.1, same fork, same boot. Single-threaded TCG on a Nehalem CPU, the setting
# guest/README.md gives for JVMs in the guest; every figure is an emulated one, so only the ratio means
# anything. Writes vsock4j-bench/target/bench-netty-guest/result.json and prints JMH's table.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$root/scripts/env.sh"
vsock4j_find_java
out="$root/vsock4j-bench/target/bench-netty-guest"
mkdir -p "$out"
(cd "$root" && mvn -B -q -ntp -DskipTests package -pl vsock4j-bench -am) >&2
cp="$root/vsock4j-bench/target/vsock4j-bench.jar:$root/vsock4j-bench/target/lib/*"
"$root/guest/run.sh" --timeout 2400 --mem 3G --share "$out" -- \
  "$JAVA_HOME/bin/java" -cp "$cp" org.openjdk.jmh.Main NettyEchoInGuest -rf json -rff "$out/result.json" "$@" \
  | tee "$out/jmh.txt" | grep -E '^(Benchmark|NettyEchoInGuest)|p0.50|Exception|Error'
