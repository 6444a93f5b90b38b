#!/usr/bin/env bash
# Compiles the bundled real indicator lists into one set and checks the
# bundled real request URLs (30,523 requests from 500 popular sites) against
# it, printing what was blocked, warned and allowed.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
indset=target/release/indset
out=${TMPDIR:-/tmp}/indset-demo
mkdir -p "$out"

echo "== compile: the bundled indicator lists -> $out/bundled.indset"
"$indset" compile -o "$out/bundled.indset" \
    data/urlhaus-indicators.csv \
    data/stevenblack-hosts-2019.txt \
    data/eth-phishing-detect.txt \
    data/disposable-email-domains.txt \
    2> "$out/compile.log"
grep '^indset:' "$out/compile.log"
echo "   (every diagnostic: $out/compile.log)"

echo
echo "== lookup: the bundled request URLs, full mode"
gzip -dc data/requests-top500-2019.jsonl.gz \
    | "$indset" lookup --summary --set "$out/bundled.indset" \
        > "$out/lookup.jsonl" 2> "$out/lookup.log"
cat "$out/lookup.log"
for action in block warn allow audit; do
    echo "-- first $action verdicts:"
    grep -m 5 "\"action\":\"$action\",\"indicator\"" "$out/lookup.jsonl" \
        | sed -E 's/^\{"query":"([^"]{0,70})[^"]*".*"indicator":\{"id":"([^"]*)","type":"([A-Za-z]+)","value":"([^"]*)".*/   \1\n      by \3 \4 (id \2)/' \
        || echo "   none"
done
echo "   (every verdict: $out/lookup.jsonl)"
