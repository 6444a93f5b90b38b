#!/usr/bin/env bash
# Runs the benchmark suite (the figures of docs/figures.md against the
# peers, one run), then turns target/bench-results.json into BENCHMARKS.md's
# tables and chart.
#
#   scripts/bench.sh            the full suite (about 10 minutes on 2 cores)
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

export INDSET_BENCH_RUSTC="$(rustc -V)"
start=$(date +%s)
cargo bench -p indset-bench --bench suite
end=$(date +%s)
echo "suite: $((end - start)) s wall, compile included"
python3 - "$results" "$((end - start))" <<'PY'
import json, sys
path, wall = sys.argv[1], int(sys.argv[2])
r = json.load(open(path))
r["wall_seconds_with_compile"] = wall
json.dump(r, open(path, "w"), indent=2)
PY
if [ -z "${INDSET_BENCH_QUICK:-}" ]; then
  mkdir -p bench/results
  cp "$results" bench/results/bench-results.json
fi
python3 scripts/chart.py "$results"
