#!/usr/bin/env bash
# Runs inside the QEMU test guest (guest/run.sh), where the kernel has vsock_loopback: both forms of
# `vsock proxy` on the kernel's AF_VSOCK, CID 1, with TCP peers on each side (proxy_peers.py):
#
#   client -> 127.0.0.1:7200 -> vsock proxy --tcp-listen 127.0.0.1:7200 --to 1:7000
#          -> AF_VSOCK (1, 7000) -> vsock proxy 7000 127.0.0.1 7100 -> 127.0.0.1:7100 -> server
#
# Usage: proxy-in-guest.sh LAUNCHER RESULTS_DIR [BYTES BOUND CONNECTIONS]
# Writes RESULTS_DIR/results.txt: the proxies' start-up lines, one line per case of proxy_peers.py, the
# peers' exit status, descriptor and socket counts around CONNECTIONS connections, the proxies' other
# stderr, then "done".
set -u
vsock=$1
out=$2/results.txt
bytes=${3:-8388608}
bound=${4:-4718592}
connections=${5:-200}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
: > "$out"
note() { echo "$1 $2" >> "$out"; }

# Backpressure is checked with a few MiB, which only means something if the relay's buffers are smaller
# than that: cap TCP's autotuning at 256 KiB per socket (the guest kernel's default maxima are 4 and 6
# MiB). Then in flight are at most the client's and the server's socket buffers and the proxies' two TCP
# sockets (256 KiB each), the vsock hop (the credit of the vsock-to-TCP proxy's 1 MiB receive buffer),
# and a relay buffer of at most 1 MiB per proxy (CopyBuffer): 4 MiB, under the bound of 4.5 MiB and
# well under the 8 MiB written.
sysctl -q -w net.ipv4.tcp_rmem="4096 131072 262144" net.ipv4.tcp_wmem="4096 16384 262144"

printf 'allowlist:\n- {address: 127.0.0.1, port: 7100}\n' > "$work/allow.yaml"
"$vsock" --transport kernel proxy --config "$work/allow.yaml" 7000 127.0.0.1 7100 2> "$work/to-tcp.err" &
to_tcp=$!
"$vsock" --transport kernel proxy --tcp-listen 127.0.0.1:7200 --to 1:7000 2> "$work/to-vsock.err" &
to_vsock=$!
# Each prints its start-up line once it listens; a JVM start costs tens of seconds here (TCG).
start=$SECONDS
end=$((SECONDS + 400))
until { grep -q "vsock proxy:" "$work/to-tcp.err" && grep -q "vsock proxy:" "$work/to-vsock.err"; } \
      || ! kill -0 $to_tcp 2> /dev/null || ! kill -0 $to_vsock 2> /dev/null || ((SECONDS > end)); do
  sleep 0.2
done
note started_after "$((SECONDS - start))s"
note to_tcp_started "$(head -n 1 "$work/to-tcp.err")"
note to_vsock_started "$(head -n 1 "$work/to-vsock.err")"

if grep -q "vsock proxy:" "$work/to-tcp.err" && grep -q "vsock proxy:" "$work/to-vsock.err"; then
  python3 "$here/proxy_peers.py" --connect 7200 --serve 7100 --bytes "$bytes" --bound "$bound" >> "$out" 2> "$work/peers.err"
  note peers_exit $?
  # Then many connections, and every descriptor of both proxies and every kernel vsock socket must be
  # back to what there was before them (ss --vsock lists the kernel's, through vsock_diag).
  modprobe vsock_diag
  counts() { echo "$(ls /proc/$to_tcp/fd | wc -l) $(ls /proc/$to_vsock/fd | wc -l) $(ss -Ha --vsock | wc -l)"; }
  before=$(counts)
  python3 "$here/proxy_peers.py" --connect 7200 --serve 7100 --connections "$connections" many >> "$out" 2>> "$work/peers.err"
  note many_exit $?
  end=$((SECONDS + 30))
  while after=$(counts); read -r b1 b2 b3 <<< "$before"; read -r a1 a2 a3 <<< "$after"
        ((a1 > b1 || a2 > b2 || a3 > b3)) && ((SECONDS <= end)); do
    sleep 0.2
  done
  note many_counts "before $before after $after (descriptors of the vsock-to-TCP proxy, of the TCP-to-vsock proxy, kernel vsock sockets)"
  note many_settled "$( ((a1 <= b1 && a2 <= b2 && a3 <= b3)) && echo yes || echo no)"
  note peers_stderr "$(tr '\n' ' ' < "$work/peers.err")"
fi
# The proxies run until killed; SIGTERM stops them cleanly (exit 143 from the JVM's default handler).
kill -TERM $to_tcp $to_vsock 2> /dev/null
wait $to_tcp
note to_tcp_exit $?
wait $to_vsock
note to_vsock_exit $?
note to_tcp_stderr "$(tail -n +2 "$work/to-tcp.err" | tr '\n' ' ')"
note to_vsock_stderr "$(tail -n +2 "$work/to-vsock.err" | tr '\n' ' ')"
note done 1
# A proxy JVM that died of a fatal error (exit 134; HotSpot's banner is on its stdout, which run.sh
# shows) makes the guest exit 134, so that run.sh --retry-jvm-crash runs it again (guest/README.md).
if grep -qx "to_tcp_exit 134\|to_vsock_exit 134" "$out"; then
  exit 134
fi
