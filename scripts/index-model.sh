#!/usr/bin/env bash
# Measures the modelled key index of bench/examples/index_model.rs on the
# 1M profiling set and the bundled real lists, with the real requests in
# domain mode: its verdicts against the set's (every request must agree),
# its bytes, the cache lines it reads, and the instructions per lookup
# counted by callgrind beside the set's own (load-independent figures).
#
#   scripts/index-model.sh
#
# Needs valgrind; about 15 minutes (each callgrind run builds the model
# from the set under valgrind). Builds the 1M set the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 2; }

target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --bin indset --example profile_lookups
cargo build --release --quiet -p indset-bench --example index_model
"$target/release/examples/profile_lookups" domain 1 >/dev/null # builds target/profile-1m.indset
bundled="$target/bundled.indset"
if [ ! -s "$bundled" ] || [ "$target/release/indset" -nt "$bundled" ]; then
    "$target/release/indset" compile -o "$bundled" data/urlhaus-indicators.csv \
        data/stevenblack-hosts-2019.txt data/eth-phishing-detect.txt \
        data/disposable-email-domains.txt 2>/dev/null
fi
model="$target/release/examples/index_model"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Instructions per lookup inside FUNCTION of PROGRAM ARGS..., from callgrind.
per_lookup() {
    local fn=$1 n=$2; shift 2
    valgrind --tool=callgrind --collect-atstart=no --toggle-collect="$fn" \
        --callgrind-out-file="$out/cg" "$@" >/dev/null 2>&1
    callgrind_annotate "$out/cg" 2>/dev/null |
        awk -v n="$n" '/PROGRAM TOTALS/ { gsub(",", "", $1); printf "%.0f", $1 / n }'
}

for set in "$target/profile-1m.indset" "$bundled"; do
    echo "== $set"
    "$model" check "$set"
    "$model" bytes "$set"
    "$model" lines "$set"
    for which in all hits misses; do
        sel=$([ "$which" = all ] && echo "" || echo "$which")
        n=$("$model" run "$set" 1 $sel | sed -n 's/^\([0-9]*\) lookups.*/\1/p')
        m=$(per_lookup 'index_model::passes_of' "$n" "$model" run "$set" 1 $sel)
        echo "instructions per domain lookup, $which requests ($n): model $m"
    done
done
echo "(the set's own counts on the 1M set: scripts/instructions.sh domain, and"
echo " examples/profile_lookups with hits/misses, as the module doc of the model says)"
