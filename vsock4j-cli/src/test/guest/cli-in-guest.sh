#!/usr/bin/env bash
# Runs inside the QEMU test guest (guest/run.sh), where the kernel has vsock_loopback: the vsock command
# line on the kernel's AF_VSOCK, as two real processes. Usage: cli-in-guest.sh LAUNCHER RESULTS_DIR
# Writes RESULTS_DIR/nc.txt (checksums and exit codes). vsock nc against ncat is NcRulesInGuestIT's part
# and `vsock test` against the kernel is the conformance module's (ConformanceTest runs the suite in the
# guest on two kernels); this script keeps what only it checks: bulk data both ways between two JVMs.
set -u
vsock=$1
results=$2
work=$(mktemp -d)

# Two nc processes exchange 10 MB of random binary each way over CID 1. The client starts once the
# listener says it listens (-v), so no connect is retried: each JVM start costs seconds under TCG.
head -c 10485760 /dev/urandom > "$work/to-server"
head -c 10485760 /dev/urandom > "$work/to-client"
"$vsock" --transport kernel nc -v -l 5000 < "$work/to-client" > "$work/server-got" 2> "$work/server.err" &
server=$!
end=$((SECONDS + 300))
until grep -qi "listening on" "$work/server.err" || ! kill -0 $server 2> /dev/null || ((SECONDS > end)); do
  sleep 0.1
done
# --no-shutdown: the listener ends at the client's EOF (ncat's rule), which must wait for its bytes.
"$vsock" --transport kernel nc --no-shutdown 1 5000 < "$work/to-server" > "$work/client-got" 2> "$work/client.err"
client_exit=$?
wait $server
server_exit=$?
{
  echo "client_exit $client_exit"
  echo "server_exit $server_exit"
  echo "to_server $(sha256sum < "$work/to-server" | cut -c1-64)"
  echo "server_got $(sha256sum < "$work/server-got" | cut -c1-64)"
  echo "to_client $(sha256sum < "$work/to-client" | cut -c1-64)"
  echo "client_got $(sha256sum < "$work/client-got" | cut -c1-64)"
  echo "stderr $(grep -vi -e "listening on" -e "connection from" "$work/server.err" | cat - "$work/client.err" | tr '\n' ' ')"
} > "$results/nc.txt"
