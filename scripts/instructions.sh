#!/usr/bin/env bash
# Instructions per lookup, counted by callgrind: repeatable whatever else
# the machine is doing, unlike times. One pass of examples/profile_lookups
# (the 1M set of the quick benchmark, the 30,524 real request URLs of
# data/) in each mode, counting only inside its `one_lookup` (a call of
# `IndicatorSet::check_at`: the lookup, with its canonicalisation): all of
# the requests, the ones that match an indicator, the ones that match
# none; then the source files whose code takes the most of the first.
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

lookup='profile_lookups::one_lookup'
for mode in ${1:-domain full}; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$mode" \
        --toggle-collect="$lookup" \
        "$bin" "$mode" 1 \
        >"$out/$mode.stdout" 2>"$out/$mode.log"
    queries=$(sed -n 's/^[a-z]*: \([0-9]*\) queries.*/\1/p' "$out/$mode.stdout")
    echo "== $mode: $queries lookups"
    # The requests that match an indicator, then those that match none:
    # profile_lookups selects them without calling `check_at`.
    for part in hits misses; do
        valgrind --tool=callgrind --callgrind-out-file="$out/$mode.$part" \
            --toggle-collect="$lookup" "$bin" "$mode" 1 "$part" \
            >"$out/$mode.$part.stdout" 2>"$out/$mode.$part.log"
        n=$(sed -n 's/^[a-z]*: \([0-9]*\) queries.*/\1/p' "$out/$mode.$part.stdout")
        total=$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$out/$mode.$part")
        awk -v t="$total" -v n="$n" -v p="$part" 'BEGIN { printf "%8.0f  instructions per lookup, the %d %s\n", t / n, n, p }'
    done
    # Where they go: the instructions of each source file (code inlined
    # from it included), per lookup, largest first.
    callgrind_annotate --auto=no "$out/$mode" 2>/dev/null |
        awk -v n="$queries" '
            /PROGRAM TOTALS/ { gsub(",", "", $1); printf "%8.0f  instructions per lookup\n", $1 / n; next }
            /^ *[0-9,]+ / {
                # The percentage may hold a space: the file is the first
                # field that names one.
                for (i = 2; i <= NF && $i !~ /\.(rs|S|c):/; i++) {}
                if (i > NF) next
                f = $i; sub(/:.*$/, "", f); sub(/^.*\/(src|library)\//, "", f)
                gsub(",", "", $1); by[f] += $1
            }
            END { for (f in by) if (by[f] / n >= 10) printf "%8.0f    %s\n", by[f] / n, f }' |
        sort -k1,1nr -s | head -14
done
