#!/usr/bin/env bash
# `indset scan` against `grep -F -f` and `rg -F -f` with the set's domains,
# on the same JSON-lines log made from the real requests of data/, in one
# run: throughput on one core and on every core, and how many lines each
# peer matches that the set does not decide (false matches) or misses.
#
#   bash scripts/scan-bench.sh [MB]      # log size, default 300
#
# Needs ripgrep (`apt-get install ripgrep`) and python3 (to write the log).
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-300}
out=${TMPDIR:-/tmp}/indset-scan-bench
mkdir -p "$out"

cargo build --release --quiet
indset=target/release/indset
command -v rg >/dev/null || { echo "scan-bench: install ripgrep (apt-get install ripgrep)" >&2; exit 2; }

"$indset" compile --now 2026-01-01T00:00:00Z -o "$out/bundled.indset" \
    data/urlhaus-indicators.csv data/stevenblack-hosts-2019.txt \
    data/eth-phishing-detect.txt data/disposable-email-domains.txt 2>/dev/null

# The set's DomainName values (block and allow), one a line: what an
# analyst would hand to grep.
"$indset" inspect --json --list "$out/bundled.indset" | python3 -c '
import json, sys
for i in json.load(sys.stdin)["list"]:
    if i["type"] == "DomainName":
        print(i["value"])' > "$out/domains.txt"

# A proxy-style JSON-lines log: the real request URLs, in file order,
# repeated until the log reaches the size asked for.
python3 - "$mb" "$out/requests.jsonl" <<'EOF'
import gzip, json, sys
target = int(sys.argv[1]) << 20
urls = [json.loads(l)["url"] for l in gzip.open("data/requests-top500-2019.jsonl.gz", "rt")]
with open(sys.argv[2], "w") as f:
    n = 0
    size = 0
    while size < target:
        for u in urls:
            line = json.dumps({"ts": 1570000000 + n // 100, "client": f"10.0.{n % 256}.{n // 256 % 256}", "url": u, "status": 200}, separators=(",", ":")) + "\n"
            f.write(line)
            size += len(line)
            n += 1
EOF
bytes=$(stat -c %s "$out/requests.jsonl")
lines=$(wc -l < "$out/requests.jsonl")
cores=$(nproc)
echo "log: $lines lines, $((bytes >> 20)) MiB; $(wc -l < "$out/domains.txt") domains; $cores cores"
cat "$out/requests.jsonl" > /dev/null   # warm the page cache

# The best of three runs of a command: "wall_seconds cpu_seconds" (user +
# system). On a shared machine the CPU time is the steadier figure: it is
# what the command would take on cores of its own.
best() {
    local best_wall=0 best_cpu=0
    for _ in 1 2 3; do
        local t
        t=$( { /usr/bin/time -f "%e %U %S" "$@" > /dev/null; } 2>&1 | tail -1)
        read -r wall user sys <<< "$t"
        best_wall=$(python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(b if a == 0 or b < a else a)" "$best_wall" "$wall")
        best_cpu=$(python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]) + float(sys.argv[3]); print(b if a == 0 or b < a else a)" "$best_cpu" "$user" "$sys")
    done
    echo "$best_wall $best_cpu"
}
row() { # name threads "wall cpu"
    python3 -c "
import sys
name, threads, (wall, cpu), size = sys.argv[1], int(sys.argv[2]), map(float, sys.argv[3].split()), int(sys.argv[4])
print(f'| {name} | {threads} | {wall:.2f} s | {size / wall / 1e6:.0f} MB/s | {cpu:.2f} s | {size / cpu / 1e6:.0f} MB/s |')" "$1" "$2" "$3" "$bytes"
}

scan_cmd() { "$indset" scan --set "$out/bundled.indset" --now 2026-01-01T00:00:00Z --threads "$1" "$out/requests.jsonl"; }
grep_cmd() { LC_ALL=C grep -n -F -f "$out/domains.txt" "$out/requests.jsonl"; }
rg_cmd() { rg -n --no-filename -F -f "$out/domains.txt" "$out/requests.jsonl"; }
export -f scan_cmd grep_cmd rg_cmd
export indset out

echo
echo "| command | threads | wall time (best of 3) | throughput | CPU time (user + sys) | throughput per CPU-second |"
echo "|---|---|---|---|---|---|"
row "indset scan" 1 "$(best bash -c 'scan_cmd 1')"
row "indset scan" "$cores" "$(best bash -c "scan_cmd $cores")"
row "rg -F -f domains.txt" 1 "$(best bash -c rg_cmd)"
row "grep -F -f domains.txt" 1 "$(best bash -c grep_cmd)"
echo "(load average during the run: $(cut -d' ' -f1-3 /proc/loadavg))"

scan_cmd 1 > "$out/scan-1.jsonl"
scan_cmd "$cores" > "$out/scan-$cores.jsonl"
rg_cmd | cut -d: -f1 > "$out/rg.lines"
grep_cmd | cut -d: -f1 > "$out/grep.lines"

# What each found: the lines with a matching indicator (any action).
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    print(json.loads(l)["line"])' "$out/scan-$cores.jsonl" > "$out/scan.lines"
cmp -s "$out/scan-1.jsonl" "$out/scan-$cores.jsonl" || { echo "scan-bench: 1 and $cores threads disagree" >&2; exit 1; }
ours=$(wc -l < "$out/scan.lines")
echo
echo "| matcher | lines matched | false matches (no indicator decides them) | misses (decided by an indicator, not matched) |"
echo "|---|---|---|---|"
echo "| indset scan | $ours | 0 | 0 |"
for peer in rg grep; do
    sort -u "$out/$peer.lines" > "$out/$peer.sorted"
    sort -u "$out/scan.lines" > "$out/scan.sorted"
    matched=$(wc -l < "$out/$peer.sorted")
    false=$(comm -23 "$out/$peer.sorted" "$out/scan.sorted" | wc -l)
    missed=$(comm -13 "$out/$peer.sorted" "$out/scan.sorted" | wc -l)
    echo "| $peer -F -f | $matched | $false | $missed |"
done
