#!/usr/bin/env bash
# Run a command inside a throw-away QEMU guest with a real Debian kernel that
# has the vsock loopback transport (CID 1). See guest/README.md.
#
#   guest/run.sh [options] -- COMMAND [ARGS...]
#
# The guest sees the host's / read-only with a tmpfs overlay on top (writes
# are lost at power-off), runs COMMAND as root in the current directory and
# powers off. COMMAND's output appears on stdout; run.sh exits with its status.
set -euo pipefail

usage() {
  cat >&2 <<'USAGE'
usage: guest/run.sh [options] -- COMMAND [ARGS...]
options:
  --timeout SECONDS   kill the guest after SECONDS (default 900); exit status 124
  --share DIR         share host directory DIR read-write at the same path in
                      the guest (repeatable); use it to get reports back
  --env NAME=VALUE    add a variable to COMMAND's environment (repeatable)
  --mem SIZE          guest memory (default 2G)
  --smp N             guest CPUs (default 2)
  --verbose           show kernel messages and the boot log
  --vhost-user-vsock SOCKET
                      give the guest a vhost-user-vsock-pci device whose backend
                      listens on SOCKET (vsock4j's device; guest RAM becomes a
                      shared memfd); the guest loads vmw_vsock_virtio_transport,
                      so its CID is what the backend says and CID 2 is the backend
  --retry-jvm-crash N run the guest again, at most N more times, when a JVM in it
                      died of a fatal error (exit 134 and HotSpot's banner): TCG
                      has crashed JIT-compiled code here (see guest/README.md)
exit status: COMMAND's, or 124 on timeout, or 125 if the guest failed before
reporting one.
USAGE
  exit 2
}

# --retry-jvm-crash N wraps the whole run: this script runs itself again without the option, and
# repeats only a run that ended in a JVM fatal error. Test failures are never retried.
if [ "${1:-}" = "--retry-jvm-crash" ]; then
  [ $# -ge 2 ] || usage
  retries=$2; shift 2
  case $retries in ''|*[!0-9]*) echo "run.sh: --retry-jvm-crash needs a count" >&2; exit 2 ;; esac
  out=$(mktemp)
  trap 'rm -f "$out"' EXIT
  for attempt in $(seq 1 $((retries + 1))); do
    set +e
    "$0" "$@" | tee "$out"
    rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -eq 134 ] && grep -q 'A fatal error has been detected by the Java Runtime Environment' "$out" \
        && [ "$attempt" -le "$retries" ]; then
      echo "run.sh: WARNING: a JVM in the guest crashed (HotSpot fatal error under TCG, attempt $attempt);" \
           "running the guest again" >&2
      continue
    fi
    exit "$rc"
  done
fi

timeout=900 mem=2G smp=2 verbose= vhost_user_vsock=
shares=() envs=()
while [ $# -gt 0 ]; do
  case $1 in
    --timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
    --timeout=*) timeout=${1#*=}; shift ;;
    --share) [ $# -ge 2 ] || usage; shares+=("$2"); shift 2 ;;
    --share=*) shares+=("${1#*=}"); shift ;;
    --env) [ $# -ge 2 ] || usage; envs+=("$2"); shift 2 ;;
    --env=*) envs+=("${1#*=}"); shift ;;
    --mem) [ $# -ge 2 ] || usage; mem=$2; shift 2 ;;
    --smp) [ $# -ge 2 ] || usage; smp=$2; shift 2 ;;
    --verbose) verbose=1; shift ;;
    --vhost-user-vsock) [ $# -ge 2 ] || usage; vhost_user_vsock=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown option $1 (the command goes after --)" >&2; usage ;;
  esac
done
[ $# -gt 0 ] || usage
case $timeout in ''|*[!0-9]*) echo "run.sh: --timeout needs whole seconds" >&2; exit 2 ;; esac
for e in ${envs[@]+"${envs[@]}"}; do
  case $e in [A-Za-z_]*=*) ;; *) echo "run.sh: --env wants NAME=VALUE, got '$e'" >&2; exit 2 ;; esac
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KERNEL= INITRD= MODDIR= KVER=
while IFS='=' read -r k v; do
  case $k in KERNEL|INITRD|MODDIR|KVER) printf -v "$k" '%s' "$v" ;; esac
done < <("$here/setup.sh")
if [ -z "$KERNEL" ] || [ -z "$INITRD" ]; then
  echo "run.sh: guest/setup.sh failed" >&2; exit 125
fi

cwd=$(pwd -P)
rundir=$(mktemp -d "${TMPDIR:-/tmp}/vsock4j-run.XXXXXX")
trap 'rm -rf "$rundir"' EXIT

virtfs=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
        -virtfs "local,path=${rundir//,/,,},mount_tag=vsock4jrun,security_model=none,multidevs=remap")
: > "$rundir/shares"
i=0
cwd_shared=
for s in ${shares[@]+"${shares[@]}"}; do
  [ -d "$s" ] || { echo "run.sh: --share $s: not a directory" >&2; exit 2; }
  d=$(cd "$s" && pwd -P)
  case $d in *$'\n'*) echo "run.sh: --share $s: newline in path" >&2; exit 2 ;; esac
  printf '%s\n' "$d" >> "$rundir/shares"
  virtfs+=(-virtfs "local,path=${d//,/,,},mount_tag=share$i,security_model=none,multidevs=remap")
  case $cwd/ in "$d"/*) cwd_shared=1 ;; esac
  i=$((i + 1))
done
# The guest mounts a fresh tmpfs on /tmp, hiding the host's /tmp.
case $cwd/ in
  /tmp/*) [ -n "$cwd_shared" ] || { echo "run.sh: the current directory $cwd is under /tmp, which the guest does not see; --share it" >&2; exit 2; } ;;
esac
printf '%s\n' "$MODDIR" > "$rundir/moddir"

java_home=${VSOCK4J_GUEST_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
{
  echo '#!/bin/bash'
  echo '# written by guest/run.sh; run by the guest init in the chroot'
  printf 'cd -- %q || { echo "vsock4j guest: cannot cd to %q" >&2; exit 125; }\n' "$cwd" "$cwd"
  printf 'exec env -i --'
  printf ' %q' \
    "PATH=$java_home/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "HOME=$HOME" "USER=root" "LOGNAME=root" "SHELL=/bin/bash" "TERM=dumb" \
    "LANG=C.UTF-8" "TMPDIR=/tmp" "JAVA_HOME=$java_home" "VSOCK4J_GUEST=1" \
    ${envs[@]+"${envs[@]}"}
  printf ' %q' "$@"
  echo
} > "$rundir/cmd.sh"

append="console=ttyS0 panic=-1 vsock4j.guest=1"
if [ -n "$verbose" ]; then append+=" loglevel=7"; else append+=" quiet loglevel=1"; fi
append+=${VSOCK4J_GUEST_APPEND:+ $VSOCK4J_GUEST_APPEND}
# A vhost-user device reads guest RAM directly, so RAM must be a shared memfd; QEMU connects to the
# backend's socket (which must already listen) before the guest starts. The init then loads the
# virtio transport (vsock4j.virtio=1): its packets go to the backend, on this machine, never further.
device=()
if [ -n "$vhost_user_vsock" ]; then
  [ -S "$vhost_user_vsock" ] || { echo "run.sh: --vhost-user-vsock $vhost_user_vsock: no listening socket there" >&2; exit 2; }
  device=(-object "memory-backend-memfd,id=mem,size=$mem,share=on" -machine memory-backend=mem
          -chardev "socket,id=vhvsock,path=${vhost_user_vsock//,/,,}" -device vhost-user-vsock-pci,chardev=vhvsock)
  append+=" vsock4j.virtio=1"
fi

# A conservative CPU model: with -cpu max (AVX2, PKU, LA57 ... all emulated by TCG) JVMs in the guest
# died with SIGSEGV in JIT-compiled code at random places, and hiding only AVX did not stop it; with
# Nehalem (SSE4.2, no AVX/PKU/LA57) the same suites ran clean. VSOCK4J_GUEST_CPU overrides the model.
cpu=${VSOCK4J_GUEST_CPU:-Nehalem}
# TCG's threading: "single" (all vCPUs on one host thread, in turns) or "multi" (one host thread per
# vCPU, QEMU's own default). Single by default: under multi, JVMs in the guest die now and then at a
# just-patched compiled-method entry (guest/README.md, "Known problem"); one CI run lost all three
# attempts of the guest suite that way. The throughput benchmark asks for multi, and copes with crashes.
tcg_thread=${VSOCK4J_GUEST_TCG_THREAD:-single}
case "$tcg_thread" in multi|single) ;; *) echo "run.sh: VSOCK4J_GUEST_TCG_THREAD must be multi or single, not '$tcg_thread'" >&2; exit 2 ;; esac
qemu=(qemu-system-x86_64 -machine q35 -accel "tcg,thread=$tcg_thread" -cpu "$cpu" -m "$mem" -smp "$smp"
      -nographic -nodefaults -serial stdio -net none -no-reboot
      -kernel "$KERNEL" -initrd "$INITRD" -append "$append" "${virtfs[@]}" ${device[@]+"${device[@]}"})

start=$(date +%s.%N)
set +e
if [ -n "$verbose" ]; then
  printf 'run.sh: %q ' "${qemu[@]}" >&2; echo >&2
  timeout --foreground -k 10 "$timeout" "${qemu[@]}" < /dev/null
else
  # Hide firmware/boot noise: pass output through from the init's start marker
  # up to its exit marker.
  timeout --foreground -k 10 "$timeout" "${qemu[@]}" < /dev/null \
    | { log=$rundir/boot.log
        while IFS= read -r line; do
          case $line in *VSOCK4J_GUEST_START*) rm -f "$log"; break ;; esac
          printf '%s\n' "$line" >> "$log"
        done
        # Stop after the exit marker (drops the kernel's "reboot: Power down").
        exec sed -u -n '0,/VSOCK4J_GUEST_EXIT=[0-9]*$/p'
      }
  # boot.log is still there (and printed below) if the guest never started.
fi
qrc=${PIPESTATUS[0]}
set -e
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

if [ -f "$rundir/exit" ]; then
  rc=$(cat "$rundir/exit")
  [ -n "${VSOCK4J_GUEST_QUIET:-}" ] || echo "run.sh: guest command exited $rc after ${elapsed}s" >&2
  exit "$rc"
fi
if [ -f "$rundir/boot.log" ]; then
  echo "run.sh: ---- guest boot log ----" >&2
  cat "$rundir/boot.log" >&2
  echo "run.sh: ------------------------" >&2
fi
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
  echo "run.sh: guest timed out after ${timeout}s without reporting an exit status" >&2
  exit 124
fi
echo "run.sh: guest stopped after ${elapsed}s (qemu status $qrc) without reporting an exit status: boot or init failed (try --verbose)" >&2
exit 125
