#!/usr/bin/env bash
# Runs the benchmark suite (the figures of docs/figures.md against the
# peers, one run), then turns target/bench-results.json into BENCHMARKS.md's
# tables and chart.
#
#   scripts/bench.sh            the full suite (about 15 minutes on 2 cores):
#                               the suite, then `indset compile` of the 10M
#                               set (time and peak memory), the
#                               instruction counts (scripts/instructions.sh)
#                               and the cache lines read per lookup
#                               (bench/examples/cache_lines.rs), both under
#                               valgrind
#   scripts/bench.sh --quick    a smoke run: no 10M point, short measurements
#   scripts/bench.sh --report   only redraw BENCHMARKS.md from the last results
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
results="$target/bench-results.json"

case "${1:-}" in
  --quick) export INDSET_BENCH_QUICK=1 ;;
  --report) exec python3 scripts/chart.py "$results" ;;
  "") ;;
  *) echo "usage: scripts/bench.sh [--quick|--report]" >&2; exit 2 ;;
esac

# Adds `key: value` (JSON) to the results.
record() {
  python3 - "$results" "$1" "$2" <<'PY'
import json, sys
path, key, value = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
r = json.load(open(path))
r[key] = value
json.dump(r, open(path, "w"), indent=2)
PY
}

export INDSET_BENCH_RUSTC="$(rustc -V)"
start=$(date +%s)
cargo bench -p indset-bench --bench suite
end=$(date +%s)
echo "suite: $((end - start)) s wall, compile included"
record wall_seconds_with_compile "$((end - start))"

# The figures measured outside the suite (full run only); each step that
# fails is reported and leaves its figure "not measured".

compile_10m() {
  # Compile 10M: the command itself on the suite's 10M input (the real
  # lists as scripts/demo.sh gives them, then the generated lines the
  # suite wrote), timed and its peak resident memory read by GNU time.
  cargo build --release --quiet --bin indset
  generated="$target/bench/generated-10m.txt"
  log="$target/bench/compile-10m.log"
  /usr/bin/time -f 'time %e %M' "$target/release/indset" compile -o "$target/bench/10m-cli.indset" \
      data/urlhaus-indicators.csv data/stevenblack-hosts-2019.txt \
      data/eth-phishing-detect.txt data/disposable-email-domains.txt \
      "$generated" 2> "$log"
  read -r seconds kib < <(sed -n 's/^time \([0-9.]*\) \([0-9]*\)$/\1 \2/p' "$log" | tail -1)
  count=$(sed -n 's/^indset: wrote .* (\([0-9]*\) indicators.*/\1/p' "$log" | tail -1)
  echo "compile 10M: ${seconds} s, peak RSS ${kib} KiB, ${count} indicators"
  record compile_10m "{\"seconds\": $seconds, \"peak_rss_bytes\": $((kib * 1024)), \"indicators\": ${count:-0}}"
  rm -f "$target/bench/10m-cli.indset"
  # The bundled set the suite measured is the one scripts/demo.sh makes.
  "$target/release/indset" compile -o "$target/bench/bundled-cli.indset" \
      data/urlhaus-indicators.csv data/stevenblack-hosts-2019.txt \
      data/eth-phishing-detect.txt data/disposable-email-domains.txt 2>/dev/null
  if cmp -s "$target/bench/bundled.indset" "$target/bench/bundled-cli.indset"; then
    record bundled_is_demo_set true
  else
    echo "warning: the bundled set differs from the one scripts/demo.sh compiles" >&2
    record bundled_is_demo_set false
  fi
  rm -f "$target/bench/bundled-cli.indset"
}


valgrind_counts() {
  # Instructions per lookup (callgrind): every real request, then only
  # those that match, in each mode.
  scripts/instructions.sh > "$target/bench/instructions.log"
  cat "$target/bench/instructions.log"
  # The count of mode $1 on the line of instructions.log that matches $2.
  per_lookup() { awk -v m="$1" -v p="$2" '/^== /{mode=$2; sub(":", "", mode)} mode==m && $0 ~ p {print $1}' "$target/bench/instructions.log"; }
  domain=$(per_lookup domain 'instructions per lookup$')
  full=$(per_lookup full 'instructions per lookup$')
  domain_hits=$(per_lookup domain ' the [0-9]* hits$')
  full_hits=$(per_lookup full ' the [0-9]* hits$')
  record instructions "{\"domain\": ${domain:-null}, \"full\": ${full:-null}, \"domain_hits\": ${domain_hits:-null}, \"full_hits\": ${full_hits:-null}}"

  # Cache lines of the 1M set's file read per lookup (valgrind's memory
  # trace, bench/examples/cache_lines.rs), on every 15th real request.
  cargo build --release --quiet -p indset-bench --example cache_lines
  lines="$target/release/examples/cache_lines"
  "$lines" queries "$target/bench/cache-lines-queries.txt" 15
  counts=()
  for mode in domain full; do
    rm -f "$target/bench/cache-lines.$mode.info"
    counts+=("$(valgrind --tool=lackey --trace-mem=yes --log-fd=3 \
        "$lines" run "$target/bench/1m.indset" "$mode" "$target/bench/cache-lines-queries.txt" \
        3>&1 >"$target/bench/cache-lines.$mode.info" | "$lines" count "$target/bench/cache-lines.$mode.info")")
    echo "== $mode, cache lines of the set per lookup: ${counts[-1]}"
  done
  record cache_lines "{\"domain\": ${counts[0]}, \"full\": ${counts[1]}}"
}

if [ -z "${INDSET_BENCH_QUICK:-}" ]; then
  compile_10m || echo "warning: compile 10M not measured" >&2
  if command -v valgrind >/dev/null; then
    valgrind_counts || echo "warning: instruction or cache-line counts not measured" >&2
  else
    echo "valgrind not found: instruction and cache-line counts not measured" >&2
  fi
  mkdir -p bench/results
  cp "$results" bench/results/bench-results.json
fi
python3 scripts/chart.py "$results"
