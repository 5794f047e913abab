#!/usr/bin/env bash
# Runs inside the QEMU test guest (guest/run.sh), where the kernel has vsock_loopback: the vsock command
# line on the kernel's AF_VSOCK, as two real processes. Usage: cli-in-guest.sh LAUNCHER RESULTS_DIR
# Writes RESULTS_DIR/nc.txt (checksums and exit codes) and RESULTS_DIR/test.txt (vsock test's output).
set -u
vsock=$1
results=$2
work=$(mktemp -d)

# 1. Two nc processes exchange 10 MB of random binary each way over CID 1.
head -c 10485760 /dev/urandom > "$work/to-server"
head -c 10485760 /dev/urandom > "$work/to-client"
"$vsock" --transport kernel nc -l 5000 < "$work/to-client" > "$work/server-got" 2> "$work/server.err" &
server=$!
client_exit=1
for _ in $(seq 1 120); do
  "$vsock" --transport kernel nc 1 5000 < "$work/to-server" > "$work/client-got" 2> "$work/client.err"
  client_exit=$?
  # Until the listener is up the connect is reset; anything else is an answer.
  grep -q ECONNRESET "$work/client.err" || break
  sleep 0.5
done
wait $server
server_exit=$?
{
  echo "client_exit $client_exit"
  echo "server_exit $server_exit"
  echo "to_server $(sha256sum < "$work/to-server" | cut -c1-64)"
  echo "server_got $(sha256sum < "$work/server-got" | cut -c1-64)"
  echo "to_client $(sha256sum < "$work/to-client" | cut -c1-64)"
  echo "client_got $(sha256sum < "$work/client-got" | cut -c1-64)"
  echo "stderr $(cat "$work/server.err" "$work/client.err" | tr '\n' ' ')"
} > "$results/nc.txt"

# 2. Interop through vsock nc with ncat, which nobody here wrote: 1 MB each way over the kernel's CID 1.
head -c 1048576 /dev/urandom > "$work/interop"
ncat --vsock -l --recv-only 5010 > "$work/ncat-got" 2> "$work/ncat.err" &
listener=$!
vsock_client_exit=1
for _ in $(seq 1 60); do
  "$vsock" --transport kernel nc 1 5010 < "$work/interop" > /dev/null 2> "$work/vsock-client.err"
  vsock_client_exit=$?
  grep -q ECONNRESET "$work/vsock-client.err" || break
  sleep 0.5
done
wait $listener
ncat_listener_exit=$?
"$vsock" --transport kernel nc -l 5011 < /dev/null > "$work/vsock-got" 2> "$work/vsock-server.err" &
listener=$!
ncat_client_exit=1
for _ in $(seq 1 60); do
  ncat --vsock --send-only 1 5011 < "$work/interop" 2> "$work/ncat-client.err" && { ncat_client_exit=0; break; }
  ncat_client_exit=$?
  sleep 0.5
done
wait $listener
vsock_listener_exit=$?
{
  echo "vsock_client_exit $vsock_client_exit"
  echo "ncat_listener_exit $ncat_listener_exit"
  echo "ncat_client_exit $ncat_client_exit"
  echo "vsock_listener_exit $vsock_listener_exit"
  echo "sent $(sha256sum < "$work/interop" | cut -c1-64)"
  echo "ncat_got $(sha256sum < "$work/ncat-got" | cut -c1-64)"
  echo "vsock_got $(sha256sum < "$work/vsock-got" | cut -c1-64)"
  echo "stderr $(cat "$work/vsock-client.err" "$work/vsock-server.err" | tr '\n' ' ')"
} > "$results/interop.txt"

# 3. The conformance suite against the kernel.
"$vsock" --transport kernel test > "$results/test.txt" 2>&1
echo "exit $?" >> "$results/test.txt"
