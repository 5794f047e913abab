# Sourced by bench-kernel.sh and profile-kernel.sh: builds what a kernel benchmark runs inside the guest.
#
#   kernel_bench_setup OUT NAME...
#
# compiles scripts/bench/vsock_bench.c to OUT/NAME (one copy per name, so a profile can tell the ends
# apart), the core's test classes with Maven, and sets $java to the command that runs KernelThroughput:
# warm-up rounds of VSOCK4J_BENCH_WARM_UP_BYTES (default 256 MiB), extra JVM options from
# VSOCK4J_BENCH_JVM_OPTS, hs_err files in OUT. Needs $root (the project) and leaves the shell there.
kernel_bench_setup() {
  local out=$1 first=$2 name
  shift
  gcc -O2 -Wall -o "$out/$first" "$root/scripts/bench/vsock_bench.c"
  for name in "$@"; do
    [ "$name" = "$first" ] || cp "$out/$first" "$out/$name"
  done
  cd "$root"
  ./build -q test-compile -pl vsock4j-core
  ./build -q dependency:build-classpath -pl vsock4j-core -Dmdep.includeScope=test -Dmdep.outputFile="$out/cp.txt" >/dev/null
  local cp="$root/vsock4j-core/target/test-classes:$root/vsock4j-core/target/classes:$(cat "$out/cp.txt")"
  java="java ${VSOCK4J_BENCH_JVM_OPTS:-} --enable-native-access=ALL-UNNAMED"
  java+=" -Dvsock4j.bench.warmUpBytes=${VSOCK4J_BENCH_WARM_UP_BYTES:-268435456} -XX:ErrorFile=$out/hs_err_%p.log"
  java+=" -cp $cp io.vsock4j.transport.kernel.KernelThroughput"
}
