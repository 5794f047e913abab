#!/usr/bin/env bash
# When a netcat connection ends, as scenarios run with any pair of implementations: ncat's own rules
# are the reference. NcRulesInGuestIT runs this inside the QEMU guest (kernel vsock, ncat and vsock nc
# on both ends and mixed); NcRulesLauncherIT on the host with two vsock nc processes on a shared machine.
#
# Usage: nc-rules.sh RESULTS "VSOCK_NC COMMAND" PAIR[/SCENARIO,...]...
#   VSOCK_NC COMMAND: how to run vsock nc, e.g. "/repo/vsock --transport kernel nc" (split on spaces)
#   PAIR: LISTENER:CLIENT, each ncat or vsock, e.g. ncat:ncat vsock:vsock ncat:vsock vsock:ncat; after a
#   slash, the scenarios to run for that pair (default: all), e.g. vsock:ncat/client-killed,keep-open-exec
# Writes one line per observation to RESULTS: PAIR SCENARIO KEY VALUE. Keys: <role>_exit (the exit
# status), <role>_timing (prompt: exited within NC_RULES_BOUND_SECONDS of the point named in the
# scenario; waiting: still running then), <role>_got (what its stdout received: a file's name, empty,
# or other:SIZE), and err_<role> (its stderr in one line, for diagnosis only).
set -u
trap '' PIPE # a write to the stdin of a process that died must not end this script
results=$1
read -r -a vsock_nc <<< "$2"
shift 2
: > "$results" # a run repeated after a JVM crash starts afresh
bound=${NC_RULES_BOUND_SECONDS:-5}
work=$(mktemp -d)
head -c 65536 /dev/urandom > "$work/file"
printf 'from the listener\n' > "$work/listener-line"
printf 'from the client\n' > "$work/client-line"
: > "$work/empty"
declare -A pid writer

# start NAME IMPL listen|connect STDIN ARGS...: STDIN is a file, or "open" for a pipe this script holds
# open (write with feed, end with close_stdin). ncat takes --sh-exec where vsock nc takes --exec.
# A listener runs with -v and is waited for until it says it listens.
start() {
  local name=$1 impl=$2 role=$3 in=$4
  shift 4
  local cmd=()
  if [[ $impl == ncat ]]; then cmd=(ncat --vsock); else cmd=("${vsock_nc[@]}"); fi
  [[ $role == listen ]] && cmd+=(-v) # says when it listens
  local a
  for a in "$@"; do
    if [[ $impl == ncat && $a == --exec ]]; then cmd+=(--sh-exec); else cmd+=("$a"); fi
  done
  [[ $in == open ]] && { rm -f "$work/$name.in"; mkfifo "$work/$name.in"; in=$work/$name.in; }
  # Emptied here, before the fork: the child's own redirections run later, and until then the awaits
  # below would read the previous scenario's files (a listener.err that already says "listening on").
  : > "$work/$name.out"
  : > "$work/$name.err"
  # The child closes the write ends this script holds for other processes, or their EOF would wait for it.
  ( for f in "${writer[@]}"; do eval "exec $f>&-"; done; exec "${cmd[@]}" ) \
    < "$in" > "$work/$name.out" 2> "$work/$name.err" &
  pid[$name]=$!
  if [[ $in == "$work/$name.in" ]]; then
    local f
    exec {f}> "$work/$name.in"
    writer[$name]=$f
  fi
  if [[ $role == listen ]]; then
    await "listening" grep -qi "listening on" "$work/$name.err"
  fi
}

# await WHAT COMMAND...: polls COMMAND for up to NC_RULES_AWAIT_SECONDS of wall-clock time (a JVM can
# take half a minute to start under TCG on a loaded host).
await() {
  local what=$1 end=$((SECONDS + ${NC_RULES_AWAIT_SECONDS:-300}))
  shift
  while ((SECONDS < end)); do
    "$@" && return 0
    sleep 0.1
  done
  echo "gave up waiting for $what" >&2
  return 1
}

size_is() { [[ $(wc -c < "$1") -eq $2 ]]; }
await_got() { await "$1 to receive $2" size_is "$work/$1.out" "$(wc -c < "$work/$2")"; }
feed() { cat "$work/$2" >&"${writer[$1]}"; }
close_stdin() { eval "exec ${writer[$1]}>&-"; unset "writer[$1]"; }

# timing NAME: prompt if NAME exits within the bound (wall-clock), else waiting. Waits on the process
# (tail --pid), never a sleep.
timing() {
  if timeout "$bound" tail --pid="${pid[$1]}" -s 0.05 -f /dev/null; then echo prompt; else echo waiting; fi
}

# finish PAIR SCENARIO NAME...: records each one's exit, stdout and stderr; kills what still runs.
finish() {
  local pair=$1 scenario=$2 name got f
  shift 2
  for name in "$@"; do
    [[ -n ${writer[$name]:-} ]] && close_stdin "$name"
    kill -0 "${pid[$name]}" 2> /dev/null && [[ $(timing "$name") == waiting ]] && kill -9 "${pid[$name]}"
    wait "${pid[$name]}"
    echo "$pair $scenario ${name}_exit $?"
    got=other:$(wc -c < "$work/$name.out")
    for f in file listener-line client-line empty; do
      cmp -s "$work/$name.out" "$work/$f" && got=$f && break
    done
    echo "$pair $scenario ${name}_got $got"
    echo "$pair $scenario err_${name} $(tr '\n' ' ' < "$work/$name.err")"
  done >> "$results"
}

note() { echo "$1 $2 $3 $4" >> "$results"; }

# want SCENARIO: whether this pair runs it (run_pair sets scenarios; empty means all).
want() { [[ -z $scenarios || ,$scenarios, == *,$1,* ]]; }

run_pair() {
  local pair=$1 port=$2 l=${1%%:*} c=${1##*:}

  if want listener-stdin-open; then
    # A file through a listener whose stdin stays open (sleep 60 | nc -l P > out; nc 1 P < file):
    # the listener ends at the client's EOF, and the client then has both EOFs.
    start listener "$l" listen open -l "$port"
    start client "$c" connect "$work/file" 1 "$port"
    await_got listener file
    note "$pair" listener-stdin-open listener_timing "$(timing listener)"
    note "$pair" listener-stdin-open client_timing "$(timing client)"
    finish "$pair" listener-stdin-open listener client
  fi

  if want client-stdin-open; then
    # A file from a listener to a client whose stdin stays open: the listener half-closes, the client
    # waits for its stdin and the listener for the client's EOF; the client's stdin EOF ends both.
    start listener "$l" listen "$work/file" -l $((port + 1))
    start client "$c" connect open 1 $((port + 1))
    await_got client file
    note "$pair" client-stdin-open listener_timing "$(timing listener)"
    note "$pair" client-stdin-open client_timing "$(timing client)"
    close_stdin client
    note "$pair" client-stdin-open client_timing_after_eof "$(timing client)"
    note "$pair" client-stdin-open listener_timing_after_eof "$(timing listener)"
    finish "$pair" client-stdin-open listener client
  fi

  if want keep-open-exec; then
    # -k --exec cat serves three clients in a row; each half-closes once its line came back.
    start listener "$l" listen "$work/empty" -l -k --exec cat $((port + 2))
    local i
    for i in 1 2 3; do
      start client "$c" connect open 1 $((port + 2))
      feed client client-line
      await_got client client-line
      close_stdin client
      note "$pair" keep-open-exec "client${i}_timing" "$(timing client)"
      finish "$pair" keep-open-exec client
      sed -i "/ keep-open-exec client_/s/ client_\(exit\|got\) / client${i}_\1 /" "$results"
    done
    note "$pair" keep-open-exec listener_running "$(kill -0 "${pid[listener]}" 2> /dev/null && echo yes || echo no)"
    kill "${pid[listener]}"
    wait "${pid[listener]}" 2> /dev/null
  fi

  if want half-close-both; then
    # Half-close both ways: the listener's stdin ends first, the client still sends, then its stdin ends.
    start listener "$l" listen "$work/listener-line" -l $((port + 3))
    start client "$c" connect open 1 $((port + 3))
    await_got client listener-line
    feed client client-line
    await_got listener client-line
    close_stdin client
    note "$pair" half-close-both listener_timing "$(timing listener)"
    note "$pair" half-close-both client_timing "$(timing client)"
    finish "$pair" half-close-both listener client
  fi

  if want client-killed; then
    # The client killed mid-stream: the listener reads its EOF and ends.
    start listener "$l" listen open -l $((port + 4))
    start client "$c" connect open 1 $((port + 4))
    feed client file
    await_got listener file
    kill -9 "${pid[client]}"
    note "$pair" client-killed listener_timing "$(timing listener)"
    finish "$pair" client-killed listener client
  fi

  if want listener-killed; then
    # The listener killed mid-stream: the client, its stdin open, waits; its next send fails.
    start listener "$l" listen open -l $((port + 5))
    start client "$c" connect open 1 $((port + 5))
    feed listener file
    await_got client file
    kill -9 "${pid[listener]}"
    note "$pair" listener-killed client_timing "$(timing client)"
    feed client client-line
    note "$pair" listener-killed client_timing_after_send "$(timing client)"
    finish "$pair" listener-killed listener client
  fi
}

port=6000
for arg in "$@"; do
  pair=${arg%%/*} scenarios=
  [[ $arg == */* ]] && scenarios=${arg#*/}
  run_pair "$pair" "$port"
  port=$((port + 100))
done
echo "done" >> "$results"
