# Sourced by ./build, ./vsock and ./run-tests: finds a Java 25 JDK without relying on the
# machine's default java (17 on these machines) and exports JAVA_HOME for Maven and the launcher.
vsock4j_find_java() {
  local candidate
  if [ -n "${JAVA_HOME:-}" ] && vsock4j_is_java25 "$JAVA_HOME"; then
    return 0
  fi
  for candidate in /usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/*-25-* /usr/lib/jvm/jdk-25* /usr/lib/jvm/*; do
    [ -x "$candidate/bin/javac" ] || continue
    if vsock4j_is_java25 "$candidate"; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  echo "vsock4j: no Java 25 JDK found under /usr/lib/jvm; install Temurin 25 or set JAVA_HOME" >&2
  return 1
}
# vsock4j_is_java25 DIR: whether DIR is a JDK of Java 25 or later. Reads the JDK's release file rather
# than starting `java -version`: a JVM start is 0.1 s here but seconds in the TCG test guest, where every
# ./vsock call passed through this.
vsock4j_is_java25() {
  if [ -f "$1/release" ]; then
    grep -Eq '^JAVA_VERSION="(2[5-9]|[3-9][0-9])' "$1/release"
  else
    "$1/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'
  fi
}
# Maven 3.8's bundled Guava touches sun.misc.Unsafe, which Java 25 warns about on every run.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
