#!/usr/bin/env bash
# Instructions per lookup, counted by callgrind: repeatable whatever else
# the machine is doing, unlike times. One pass of examples/profile_lookups
# (the 1M set of the quick benchmark, the 30,524 real request URLs of
# data/) in each mode, counting only inside `IndicatorSet::check_at` (the
# lookup, with its canonicalisation), then
# the functions that take the most of it.
#
#   scripts/instructions.sh            both modes
#   scripts/instructions.sh domain     one mode (domain or full)
#
# Needs valgrind. The first run builds the 1M set (about 10 s).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 2; }

target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --example profile_lookups
bin="$target/release/examples/profile_lookups"
"$bin" domain 1 >/dev/null # builds the set outside valgrind
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for mode in ${1:-domain full}; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$mode" \
        --toggle-collect='indset::set::lookup::<impl indset::set::IndicatorSet<D>>::check_at' \
        "$bin" "$mode" 1 \
        >"$out/$mode.stdout" 2>"$out/$mode.log"
    queries=$(sed -n 's/^[a-z]*: \([0-9]*\) queries.*/\1/p' "$out/$mode.stdout")
    echo "== $mode: $queries lookups"
    # Inclusive counts of the library's functions, per lookup, largest
    # first (a function inlined into several places shows its largest).
    callgrind_annotate --inclusive=yes "$out/$mode" 2>/dev/null |
        awk -v n="$queries" '
            /PROGRAM TOTALS/ { gsub(",", "", $1); printf "%8.0f  instructions per lookup\n", $1 / n; next }
            $3 != "=>" && $3 ~ /\.rs:indset::/ {
                f = $3; sub(/^.*\.rs:/, "", f)
                if ($0 ~ /::check_at/ || seen[f]++) next
                gsub(",", "", $1); v = $1 / n
                if (v >= 20) printf "%8.0f  %s\n", v, f
            }' | head -12
done
