#!/usr/bin/env bash
# Cache lines of the set read per lookup, counted from every memory access:
# valgrind's lackey traces the loads and stores of examples/lines_read (a
# lookup of every sixth real request in the 1M profiling set), and the
# distinct 64-byte lines of the mapped set touched between two lookups are
# that lookup's. Load-independent, like the instruction counts.
#
#   scripts/lines.sh            both modes
#   scripts/lines.sh domain     one mode (domain or full)
#   STEP=1 scripts/lines.sh     every request (about 12 times longer)
#
# Needs valgrind and python3; a few minutes per mode.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 2; }

target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --example profile_lookups --example lines_read
"$target/release/examples/profile_lookups" domain 1 >/dev/null # builds the set
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for mode in ${1:-domain full}; do
    valgrind --tool=lackey --trace-mem=yes --log-file="$out/trace" \
        "$target/release/examples/lines_read" "$mode" "${STEP:-12}" \
        >"$out/decided" 2>"$out/where"
    python3 - "$mode" "$out/where" "$out/decided" "$out/trace" <<'PY'
import sys
mode, where, decided, trace = sys.argv[1:]
w = open(where).read().split()
base, size, mark = int(w[1], 16), int(w[2]), int(w[4], 16)
decided = open(decided).read().strip()
counts, lines, started, at_mark = [], set(), False, False
with open(trace) as f:
    for line in f:
        if line[:1] != " ":
            continue  # an instruction fetch or valgrind's own lines
        a, _, n = line[3:].partition(",")
        addr = int(a, 16)
        if addr == mark:
            # An atomic update can show as a load and a store.
            if not at_mark:
                if started:
                    counts.append(len(lines))
                lines, started = set(), True
            at_mark = True
            continue
        at_mark = False
        if base <= addr < base + size:
            end = addr + max(int(n), 1) - 1
            lines.update(range((addr - base) // 64, (end - base) // 64 + 1))
assert len(counts) == len(decided), (len(counts), len(decided))
for label, want in (("all", None), ("match", "1"), ("miss", "0")):
    xs = [c for c, d in zip(counts, decided) if want is None or d == want]
    xs.sort()
    mean = sum(xs) / max(len(xs), 1)
    med = xs[len(xs) // 2] if xs else 0
    print(f"{mode:6} {label:5}  {len(xs):6} lookups  mean {mean:5.2f} lines  median {med}  max {max(xs, default=0)}")
PY
done
