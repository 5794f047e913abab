#!/usr/bin/env bash
# One guest's part in VhostUserSiblingsInGuestTest: three guests on one vsock4j device process, each
# told by the JVM (CID 2, CONTROL_PORT) when to act, so no guest waits on a clock.
#
# Usage: siblings.sh listener DIR PORT CONTROL_PORT
#        siblings.sh client   DIR PORT CONTROL_PORT TARGET_CID NAME
#   listener: listens on PORT with ncat, says "ready" once ncat listens, and saves what arrives and
#             ncat's stderr to DIR/listener.out and DIR/listener.err.
#   client:   says "waiting" and, once the JVM answers "go", sends "hello from NAME" to TARGET_CID:PORT
#             with ncat, then reports "result STATUS STDERR" to the JVM.
# The guest has no H2G transport, so its kernel sends every CID, siblings' too, to its virtio device.
set -u
role=$1 dir=$2 port=$3 control=$4

# say LINE: one line to the JVM; prints its one-line answer.
say() { printf '%s\n' "$1" | ncat --vsock 2 "$control"; }

case $role in
  listener)
    ncat --vsock -v -l "$port" < /dev/null > /tmp/listener.out 2> /tmp/listener.err &
    l=$!
    until grep -q "Listening on" /tmp/listener.err; do
      kill -0 "$l" 2> /dev/null || { cat /tmp/listener.err >&2; exit 1; }
      sleep 0.1
    done
    [[ $(say ready) == ok ]] || exit 3
    wait "$l"
    rc=$?
    cp /tmp/listener.out /tmp/listener.err "$dir/"
    exit "$rc" ;;
  client)
    target=$5 name=$6
    answer=$(say waiting)
    [[ $answer == go ]] || { echo "the JVM said '$answer', not go" >&2; exit 3; }
    printf 'hello from %s\n' "$name" | ncat --vsock "$target" "$port" > /dev/null 2> /tmp/client.err
    rc=$?
    [[ $(say "result $rc $(tr '\n' ' ' < /tmp/client.err)") == ok ]] || exit 3 ;;
  *) echo "usage: siblings.sh listener|client DIR PORT CONTROL_PORT [TARGET_CID NAME]" >&2; exit 2 ;;
esac
