# Sourced by ./build, ./vsock and ./run-tests: finds a Java 25 JDK without relying on the
# machine's default java (17 on these machines) and exports JAVA_HOME for Maven and the launcher.
vsock4j_find_java() {
  local candidate
  if [ -n "${JAVA_HOME:-}" ] && "$JAVA_HOME/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
    return 0
  fi
  for candidate in /usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/*-25-* /usr/lib/jvm/jdk-25* /usr/lib/jvm/*; do
    [ -x "$candidate/bin/javac" ] || continue
    if "$candidate/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  echo "vsock4j: no Java 25 JDK found under /usr/lib/jvm; install Temurin 25 or set JAVA_HOME" >&2
  return 1
}
# Maven 3.8's bundled Guava touches sun.misc.Unsafe, which Java 25 warns about on every run.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
