#!/usr/bin/env bash
# Builds the JNI binding (target/release/libindset_ffi.so with the `jni`
# feature), compiles the Java class `indset.Indset` and its test with
# `javac`, and runs the test with `java` against two small compiled sets.
#
#   bash java/run.sh    # from anywhere in the repository
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

cargo build --release --quiet -p indset-ffi --features jni
cargo build --release --quiet --bin indset
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

sets="$root/ffi/c/sets"
target/release/indset compile --now 2026-01-01T00:00:00Z -o "$work/first.indset" "$sets/first.csv" 2>/dev/null
target/release/indset compile --now 2026-01-01T00:00:00Z -o "$work/second.indset" "$sets/second.csv" 2>/dev/null
cp "$sets/first.csv" "$work/not-a-set.indset"

javac -Xlint:all -Werror -d "$work/classes" "$here"/src/indset/*.java "$here"/test/*.java
java -Xcheck:jni -ea -Djava.library.path=target/release -cp "$work/classes" IndsetTest \
  "$work/first.indset" "$work/second.indset" "$work/not-a-set.indset" "$root/tests/fixtures/flow"
