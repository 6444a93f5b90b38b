#!/usr/bin/env bash
# The Python package and the Spark example, from a clean clone:
# builds the wheel with maturin, installs it, runs the pytest suite, then
# runs examples/spark_hunt.py with pyspark in local mode on LINES generated
# log lines (default 1,000,000, from the real requests of data/) and checks
# that its matches are exactly `indset scan`'s on the same lines.
#
#   bash scripts/python-ci.sh [LINES]
#
# Needs python3 >= 3.9 with pip, and a JDK (17) for pyspark.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
out=${TMPDIR:-/tmp}/indset-python-ci
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)

# pyspark checks for pandas before mapInArrow, though the job never uses it.
python3 -m pip install --quiet maturin pytest pyspark pyarrow pandas
cargo build --release --quiet
indset=$PWD/target/release/indset

echo "== wheel"
python3 -m maturin build --release --quiet -m python/Cargo.toml -o "$out/dist"
python3 -m pip install --quiet --force-reinstall --no-deps "$out"/dist/indset-*.whl

echo "== pytest"
INDSET_BIN="$indset" python3 -m pytest -q python/tests

echo "== spark_hunt.py on $lines lines against indset scan"
"$indset" compile --now 2026-01-01T00:00:00Z -o "$out/bundled.indset" \
    data/urlhaus-indicators.csv data/stevenblack-hosts-2019.txt \
    data/eth-phishing-detect.txt data/disposable-email-domains.txt 2>/dev/null
python3 - "$lines" "$out/logs.jsonl" <<'EOF'
import gzip, json, sys
n = int(sys.argv[1])
urls = [json.loads(l).get("url") for l in gzip.open("data/requests-top500-2019.jsonl.gz", "rt")]
urls = [u for u in urls if isinstance(u, str)]
with open(sys.argv[2], "w") as f:
    for i in range(n):
        # `seq` is the line number, so the two results can be joined.
        f.write(json.dumps({"seq": i + 1, "client": f"10.0.{i % 256}.{i // 256 % 256}", "url": urls[i % len(urls)]}) + "\n")
EOF
now=1780272000   # 2026-06-01T00:00:00Z
"$indset" scan --set "$out/bundled.indset" --now 2026-06-01T00:00:00Z "$out/logs.jsonl" > "$out/scan.jsonl"
t0=$(date +%s.%N)
PYSPARK_PYTHON=python3 python3 examples/spark_hunt.py --master 'local[2]' \
    --set "$out/bundled.indset" --logs "$out/logs.jsonl" --out "$out/hits.parquet" \
    --keep seq --long-fields seq --now "$now" 2> "$out/spark.log" \
    || { tail -50 "$out/spark.log"; exit 1; }
t1=$(date +%s.%N)
python3 - "$out/scan.jsonl" "$out/hits.parquet" "$lines" "$t0" "$t1" <<'EOF'
import json, sys
import pyarrow.parquet as pq
scan = set()
for l in open(sys.argv[1]):
    r = json.loads(l)
    ind = r["indicator"] or r["audit"]
    scan.add((r["line"], r["query"], r["action"], ind["id"]))
t = pq.read_table(sys.argv[2]).to_pydict()
spark = set(zip(t["seq"], t["url"], t["decision"], t["indicator"]))
assert len(t["seq"]) == len(spark), "a record twice in Spark's output"
missing, extra = scan - spark, spark - scan
assert not missing and not extra, f"scan only: {sorted(missing)[:5]}, spark only: {sorted(extra)[:5]}"
secs = float(sys.argv[5]) - float(sys.argv[4])
print(f"spark_hunt.py: {len(spark)} matches in {sys.argv[3]} lines, equal to indset scan's; "
      f"{secs:.1f} s with local[2] (JVM start included), {int(sys.argv[3]) / secs:,.0f} rows/s")
EOF
echo "python-ci: $(( $(date +%s) - start )) s in all"
