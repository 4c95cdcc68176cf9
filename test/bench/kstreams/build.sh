#!/usr/bin/env bash
# Builds the benchmark's Kafka Streams scenario (KS): the jars listed in
# pom.xml come from Maven Central (once, with Maven) and the one source file is
# compiled with javac against them. Everything goes to the cache, nothing to
# this folder.
#
# Usage: test/bench/kstreams/build.sh {fetch|build|classpath|clean}
#   fetch      download the jars into $MILLRACE_CACHE/bench-kstreams/libs
#              (a marker with pom.xml's checksum makes later calls no-ops)
#   build      fetch if needed, compile if the source changed, and print the
#              classpath to run it with (java -cp CLASSPATH dev.millrace.bench.KStreamsBench)
#   classpath  print the classpath without building
#   clean      delete the compiled classes and the jars
#
# Needs Java 17 or newer (java, javac; $JAVA_HOME if set) and, for fetch,
# Apache Maven (mvn). Progress goes to stderr, the classpath to stdout.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../../.." && pwd)
POM="$SCRIPT_DIR/pom.xml"
SRC="$SCRIPT_DIR/src/main/java/dev/millrace/bench/KStreamsBench.java"

CACHE_ROOT=${MILLRACE_CACHE:-$REPO_ROOT/.cache}
KS_HOME="$CACHE_ROOT/bench-kstreams"
LIBS="$KS_HOME/libs"
CLASSES="$KS_HOME/classes"
FETCH_MARKER="$KS_HOME/.fetched"
BUILD_MARKER="$KS_HOME/.built"
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

JAVA=java
JAVAC=javac
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
  JAVAC="$JAVA_HOME/bin/javac"
fi

log() { printf 'kstreams: %s\n' "$*" >&2; }
die() { printf 'kstreams: error: %s\n' "$*" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

require_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found on PATH (or \$JAVA_HOME); Java 17 or newer is needed"
  command -v "$JAVAC" >/dev/null 2>&1 || die "javac not found on PATH (or \$JAVA_HOME); a JDK 17 or newer is needed"
  local version major
  version=$("$JAVA" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1)
  case "$version" in
    1.*) major=${version#1.}; major=${major%%.*} ;;
    *) major=${version%%[.+-]*} ;;
  esac
  [[ "$major" =~ ^[0-9]+$ ]] || die "could not parse the Java version '$version'"
  (( major >= 17 )) || die "java $version is too old; Kafka Streams 4.1 needs Java 17 or newer"
}

# One fetch or build at a time (the smoke test and a run may start together).
lock() {
  command -v flock >/dev/null 2>&1 || return 0
  mkdir -p "$KS_HOME"
  exec 8>"$KS_HOME.lock"
  flock -w 900 8 || die "timed out waiting for the lock $KS_HOME.lock"
}

pom_digest() { sha256sum "$POM" | cut -d' ' -f1; }
build_digest() { cat "$POM" "$SRC" | sha256sum | cut -d' ' -f1; }

is_fetched() {
  [[ -f "$FETCH_MARKER" && "$(cat "$FETCH_MARKER")" == "$(pom_digest)" ]] \
    && compgen -G "$LIBS/kafka-streams-*.jar" >/dev/null
}

is_built() {
  is_fetched && [[ -f "$BUILD_MARKER" && "$(cat "$BUILD_MARKER")" == "$(build_digest)" ]] \
    && [[ -f "$CLASSES/dev/millrace/bench/KStreamsBench.class" ]]
}

fetch() {
  if is_fetched; then
    return 0
  fi
  require_java
  command -v mvn >/dev/null 2>&1 \
    || die "mvn (Apache Maven) not found on PATH; it is needed once to download the Kafka Streams jars (Debian: apt-get install maven)"
  local started tmp fetch_log
  started=$(now)
  mkdir -p "$KS_HOME"
  tmp="$KS_HOME/libs.tmp"
  fetch_log="$KS_HOME/fetch.log"
  rm -rf "$tmp"
  log "downloading the jars of $POM from Maven Central into $LIBS ..."
  if ! mvn -q -B -f "$POM" "$DEPENDENCY_PLUGIN:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$fetch_log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$fetch_log" | grep -v '^\[ERROR\] *$' | tail -n 12 >&2 || true
    die "mvn could not download the jars of $POM (see $fetch_log)"
  fi
  compgen -G "$tmp/kafka-streams-*.jar" >/dev/null \
    || die "mvn succeeded but $tmp has no kafka-streams jar (see $fetch_log)"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  pom_digest >"$FETCH_MARKER"
  log "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) in $(elapsed "$started")s"
}

build() {
  fetch
  if is_built; then
    return 0
  fi
  require_java
  local started tmp
  started=$(now)
  tmp="$KS_HOME/classes.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  "$JAVAC" --release 17 -encoding UTF-8 -Xlint:all -Werror -proc:none \
    -cp "$LIBS/*" -d "$tmp" "$SRC" || die "javac failed on $SRC"
  rm -rf "$CLASSES"
  mv "$tmp" "$CLASSES"
  build_digest >"$BUILD_MARKER"
  log "compiled $(basename "$SRC") in $(elapsed "$started")s"
}

classpath() { printf '%s\n' "$CLASSES:$LIBS/*"; }

case "${1:-}" in
  fetch) lock; fetch ;;
  build) lock; build; classpath ;;
  classpath) classpath ;;
  clean) lock; rm -rf "$CLASSES" "$LIBS" "$FETCH_MARKER" "$BUILD_MARKER"; log "deleted $CLASSES and $LIBS" ;;
  -h | --help | help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
