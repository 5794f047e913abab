#!/usr/bin/env bash
# scripts/fuzz/fuzz.sh TARGET [SECONDS]: fuzzes one of the core's Jazzer targets with coverage feedback for
# SECONDS (default 600). TARGET is
#   virtqueue            the split virtqueue's ring walker (io.vsock4j.virtqueue.SplitQueueFuzzTest)
#   vhost-user-message   the vhost-user message decoder (io.vsock4j.transport.vhostuser.VhostUserMessageFuzzTest)
#   connect-request      the hybrid vsock CONNECT line (io.vsock4j.transport.hybrid.ConnectRequestFuzzTest)
#   guest-packets        the device's tx/rx packet codec on popped chains (io.vsock4j.transport.vhostuser.GuestPacketsFuzzTest)
#   virtio-header        the 44-byte virtio-vsock header's decode and validate (io.vsock4j.wire.VirtioVsockHeaderFuzzTest)
#   pcap-reader          the capture file reader (io.vsock4j.capture.PcapReaderFuzzTest)
#   shared-wire          link frames and the shared machine's GONE/GUESTS lists (io.vsock4j.transport.shared.SharedWireFuzzTest)
#   proxy-allowlist      vsock proxy's YAML allowlist (io.vsock4j.cli.proxy.AllowlistFuzzTest, in the command line's
#                        module: its classpath comes from the local repository, so `mvn install -DskipTests` first)
# Why not `JAZZER_FUZZ=1 mvn test`: Jazzer 0.24.0 cannot instrument Java 25 class files (its ASM stops at
# major version 68), so that mode fuzzes blind. This compiles the target's classes, which use nothing
# newer, for Java 23 and runs Jazzer's own driver on the test's fuzzerTestOneInput. It starts from the
# seed corpus (what `mvn test` replays), grows a corpus under vsock4j-core/target/fuzz-TARGET/corpus, and
# writes a crashing input and its Java reproducer there. To keep what a run learned, merge its corpus
# into the seeds: FUZZ_MERGE=1 scripts/fuzz/fuzz.sh TARGET (libFuzzer's -merge=1 keeps the inputs that
# add coverage). FUZZ_MERGE_ARGS adds libFuzzer flags to the merge: FUZZ_MERGE_ARGS=-use_counters=0 keeps
# only inputs that add an edge, not a hit count, for a smaller seed set (guest-packets: 35 seeds, not 145).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target=${1:-}
seconds=${2:-600}
core="$root/vsock4j-core"
case $target in
  virtqueue)
    test_class=io.vsock4j.virtqueue.SplitQueueFuzzTest includes='io.vsock4j.virtqueue.**'
    seeds="$core/src/test/resources/io/vsock4j/virtqueue/SplitQueueFuzzTestInputs/pop"
    tests="$core/src/test/java/io/vsock4j/virtqueue"
    sources=("$core"/src/main/java/io/vsock4j/virtqueue/*.java "$tests/DriverSide.java" "$tests/ChainChecks.java"
             "$tests/SplitQueueFuzzTest.java") ;;
  vhost-user-message)
    test_class=io.vsock4j.transport.vhostuser.VhostUserMessageFuzzTest includes='io.vsock4j.transport.vhostuser.**'
    seeds="$core/src/test/resources/io/vsock4j/transport/vhostuser/VhostUserMessageFuzzTestInputs/decode"
    main="$core/src/main/java/io/vsock4j/transport/vhostuser"
    sources=("$main"/{VhostUserMessage,VhostUserRequest,PayloadKind,VhostUserProtocolException,ConfigSpace,RegionDescription,VringState,VringAddress}.java
             "$core/src/test/java/io/vsock4j/transport/vhostuser/VhostUserMessageFuzzTest.java") ;;
  connect-request)
    test_class=io.vsock4j.transport.hybrid.ConnectRequestFuzzTest includes='io.vsock4j.transport.hybrid.**'
    seeds="$core/src/test/resources/io/vsock4j/transport/hybrid/ConnectRequestFuzzTestInputs/offer"
    sources=("$core/src/main/java/io/vsock4j/VsockAddress.java"
             "$core/src/main/java/io/vsock4j/transport/hybrid/HandshakeLine.java"
             "$core/src/test/java/io/vsock4j/transport/hybrid/ConnectRequestFuzzTest.java") ;;
  guest-packets)
    test_class=io.vsock4j.transport.vhostuser.GuestPacketsFuzzTest
    includes='io.vsock4j.transport.vhostuser.**:io.vsock4j.wire.**'
    seeds="$core/src/test/resources/io/vsock4j/transport/vhostuser/GuestPacketsFuzzTestInputs/packets"
    sources=("$core"/src/main/java/io/vsock4j/{virtqueue,wire}/*.java "$core/src/main/java/io/vsock4j/VsockAddress.java"
             "$core/src/main/java/io/vsock4j/transport/vhostuser/GuestPackets.java"
             "$core/src/test/java/io/vsock4j/virtqueue/DriverSide.java"
             "$core/src/test/java/io/vsock4j/transport/vhostuser/GuestPacketsFuzzTest.java") ;;
  virtio-header)
    test_class=io.vsock4j.wire.VirtioVsockHeaderFuzzTest includes='io.vsock4j.wire.**'
    seeds="$core/src/test/resources/io/vsock4j/wire/VirtioVsockHeaderFuzzTestInputs/decode"
    sources=("$core"/src/main/java/io/vsock4j/wire/*.java "$core/src/main/java/io/vsock4j/VsockAddress.java"
             "$core/src/test/java/io/vsock4j/wire/VirtioVsockHeaderFuzzTest.java") ;;
  pcap-reader)
    test_class=io.vsock4j.capture.PcapReaderFuzzTest includes='io.vsock4j.capture.**:io.vsock4j.wire.**'
    seeds="$core/src/test/resources/io/vsock4j/capture/PcapReaderFuzzTestInputs/read"
    sources=("$core"/src/main/java/io/vsock4j/wire/*.java "$core/src/main/java/io/vsock4j/VsockAddress.java"
             "$core"/src/main/java/io/vsock4j/capture/{PcapReader,PcapWriter,Vsockmon,CapturedPacket}.java
             "$core/src/test/java/io/vsock4j/capture/PcapReaderFuzzTest.java") ;;
  shared-wire)
    test_class=io.vsock4j.transport.shared.SharedWireFuzzTest includes='io.vsock4j.transport.**:io.vsock4j.wire.**'
    seeds="$core/src/test/resources/io/vsock4j/transport/shared/SharedWireFuzzTestInputs/frames"
    sources=("$core"/src/main/java/io/vsock4j/wire/*.java "$core/src/main/java/io/vsock4j/VsockAddress.java"
             "$core"/src/main/java/io/vsock4j/spi/Errno.java
             "$core"/src/main/java/io/vsock4j/transport/link/{FrameDecoder,UnixHello}.java
             "$core/src/main/java/io/vsock4j/transport/shared/SharedWire.java"
             "$core/src/test/java/io/vsock4j/transport/shared/SharedWireFuzzTest.java") ;;
  proxy-allowlist)
    module=vsock4j-cli
    test_class=io.vsock4j.cli.proxy.AllowlistFuzzTest includes='io.vsock4j.cli.proxy.**:org.yaml.snakeyaml.**'
    seeds="$root/vsock4j-cli/src/test/resources/io/vsock4j/cli/proxy/AllowlistFuzzTestInputs/read"
    sources=("$root"/vsock4j-cli/src/main/java/io/vsock4j/cli/proxy/{Allowlist,Resolver}.java
             "$root/vsock4j-cli/src/test/java/io/vsock4j/cli/proxy/AllowlistFuzzTest.java") ;;
  *) echo "usage: scripts/fuzz/fuzz.sh virtqueue|vhost-user-message|connect-request|guest-packets|virtio-header|pcap-reader|shared-wire|proxy-allowlist [SECONDS]" >&2; exit 2 ;;
esac
module=${module:-vsock4j-core}
work="$root/$module/target/fuzz-$target"
. "$root/scripts/env.sh"
vsock4j_find_java
mkdir -p "$work/classes" "$work/corpus"
(cd "$root" && mvn -B -ntp -q -pl "$module" dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$work/classpath.txt")
cp="$(cat "$work/classpath.txt")"
"$JAVA_HOME/bin/javac" --release 23 -proc:none -nowarn -cp "$cp" -d "$work/classes" "${sources[@]}"
cd "$work"
jazzer=("$JAVA_HOME/bin/java" -cp "$work/classes:$cp" com.code_intelligence.jazzer.Jazzer
  --target_class="$test_class" --instrumentation_includes="$includes" --reproducer_path="$work")
if [ -n "${FUZZ_MERGE:-}" ]; then
  exec "${jazzer[@]}" -merge=1 ${FUZZ_MERGE_ARGS:-} "$seeds" "$work/corpus"
fi
exec "${jazzer[@]}" -max_total_time="$seconds" -print_final_stats=1 "$work/corpus" "$seeds"
