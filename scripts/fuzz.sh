#!/usr/bin/env bash
# Fuzzing for indset: every target asserts a property, not only "no crash".
#
#   scripts/fuzz.sh seed                  write the seed corpora to fuzz/corpus/<target>/ (replacing it)
#   scripts/fuzz.sh smoke                 seed (a temporary corpus), build, then run every target for
#                                         $SMOKE_RUNS runs (default 20000); fails on any crash
#   scripts/fuzz.sh campaign [N|Ns] [T..] a long run per target, one at a time:
#                                         N executions (default 10000000), or Ns seconds
#   scripts/fuzz.sh repro TARGET FILE     run one input through a target
#
# A target's log is fuzz/logs/<target>.log, or fuzz/logs/<target>.<name>.log
# with FUZZ_RUN=name, so that two campaigns of one target at once (one per
# core, on one corpus) keep a log each.
#
# The targets are built with `cargo fuzz build -O --sanitizer none`: the
# library denies `unsafe` except at its memory-map site
# (`format::map` in src/format/container.rs), which the targets do not
# reach (they open sets with `IndicatorSet::from_bytes`), and its
# prefetch hint (src/prefetch.rs), which reads and writes nothing, so
# AddressSanitizer finds nothing the Rust bounds checks do not, and its
# build is slower to build and to run (BENCHMARKS.md, Measurements behind
# choices in the code). `-O` without `-a` leaves debug assertions and overflow
# checks off, as in the library's release build. cargo-fuzz needs nightly features;
# RUSTC_BOOTSTRAP=1 lets the stable toolchain build them.
#
# The build goes to a target directory outside the work tree
# ($INDSET_FUZZ_TARGET_DIR, default ~/.cache/indset-fuzz/target), so that a
# fresh clone on the same machine (CI) reuses the instrumented dependencies
# (idna/ICU, psl, fst, url...): building them is most of the smoke run's
# budget (BENCHMARKS.md, Measurements behind choices in the code).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/fuzz"
corpus_root="$fuzz/corpus"
export RUSTC_BOOTSTRAP=1
target_dir=${INDSET_FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/indset-fuzz/target}
build_flags=(-O --sanitizer none --target-dir "$target_dir")

targets() {
    sed -n 's/^name = "\(.*\)"$/\1/p' "$fuzz/Cargo.toml" | grep -v '^indset-fuzz$'
}

ensure_cargo_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        cargo install cargo-fuzz --locked
    fi
}

# One file per line of stdin, into directory $1, named by line number, with
# the bytes of $2 (a printf format) before each line.
lines_to_files() {
    local dir=$1 prefix=${2:-} n=0 line
    mkdir -p "$dir"
    while IFS= read -r line; do
        n=$((n + 1))
        printf "$prefix%s" "$line" >"$dir/${dir##*/}-$n"
    done
}

# URLs and hosts: real requests, real indicators, the test tables' strings.
url_lines() {
    zcat "$root/data/requests-top500-2019.jsonl.gz" | awk 'NR % 100 == 1' |
        sed -n 's/.*"url":"\([^"]*\)".*/\1/p'
    awk -F, 'NR > 1 && NR % 50 == 0 { print $2 }' "$root/data/urlhaus-indicators.csv"
    grep -h -o '"[^"]*"' "$root"/tests/canon_*.rs | sed 's/^"//; s/"$//' |
        grep -E '[./:@%\[]' | sort -u | sed -n '1,300p'
    cat <<'EOF'
http://www.example.com/a/../b/./c//d?q=1#frag
HTTPS://user:pw@Example.COM.:8443/%2e%2E/x
http:\\evil.com\path
http:///a.example/
http://%25%32%35%33%41.example/%253F
http://3279880203/blah
http://0xC3.0177.0.11/
http://[::ffff:245.245.0.1]/
http://245.245.0.1./
http://xn--nxasmq6b.example/
http://bücher.example/ü?ü=1
http://a。b．c｡d/
http:// leadingspace.com/
http://a b.com/
http://*.example.com/
ftp://example.com/x
example.com:8080/x
EOF
}

seed() {
    local corpus="$corpus_root" f
    rm -rf "$corpus"
    mkdir -p "$corpus"
    url_lines >"$corpus/.urls"
    # canon_url: two bytes choose the small buffer (here 64 and 300 bytes).
    lines_to_files "$corpus/canon_url" '\x40\x00' <"$corpus/.urls"
    head -200 "$corpus/.urls" | lines_to_files "$corpus/canon_url_b" '\x2c\x01'
    mv "$corpus"/canon_url_b/* "$corpus/canon_url/" && rmdir "$corpus/canon_url_b"
    # canon_host: hosts, and the same URLs (query_host reduces them).
    { sed -n 's|^[a-zA-Z]*://\([^/]*\).*|\1|p' "$corpus/.urls"; cat "$corpus/.urls"; } |
        sort -u | lines_to_files "$corpus/canon_host"
    # ingest: slices of every input format; the first byte chooses the format
    # (0 auto, 1 csv, 2 json, 3 text, 4 hosts; +0x20 a later compile time).
    mkdir -p "$corpus/ingest"
    for f in 0 1000 3000 6000; do
        { printf '\x21'; head -1 "$root/data/urlhaus-indicators.csv"
          sed -n "$((f + 2)),$((f + 13))p" "$root/data/urlhaus-indicators.csv"; } >"$corpus/ingest/csv-$f"
        { printf '\x24'; sed -n "$((f + 1)),$((f + 15))p" "$root/data/stevenblack-hosts-2019.txt"; } >"$corpus/ingest/hosts-$f"
        { printf '\x23'; sed -n "$((f + 1)),$((f + 15))p" "$root/data/eth-phishing-detect.txt"; } >"$corpus/ingest/text-$f"
        { printf '\x20'; sed -n "$((f + 1)),$((f + 10))p" "$root/data/disposable-email-domains.txt"; } >"$corpus/ingest/auto-$f"
    done
    printf '\x22%s' '[{"indicatorValue":"example.com","indicatorType":"DomainName","action":"Block","id":"7","title":"t","severity":"High","expirationTime":"2030-01-01T00:00:00Z","rbacGroupNames":["Sales"]},{"indicatorValue":"https://a.example/x?y","indicatorType":"Url","action":"Allowed"}]' >"$corpus/ingest/json-array"
    printf '\x22%s' '{"value":[{"indicatorValue":"1.2.3.4","indicatorType":"IpAddress","action":"Warn"},{"indicatorValue":"a.example","indicatorType":"DomainName","action":"Audit","expirationTime":"2001-01-01T00:00:00Z"}]}' >"$corpus/ingest/json-list"
    printf '\x22%s' '{"Indicators":[{"IndicatorValue":"b.example","IndicatorType":"DomainName","Action":"AlertAndBlock","RbacGroupNames":["Other"]}]}' >"$corpus/ingest/json-import"
    printf '\xa1%s\r\n%s\r\n%s\r\n' 'IndicatorType,IndicatorValue,Action,RbacGroups,ExpirationTime' \
        'DomainName,example.com,Block,"Sales,Ops",' 'Url,example.com/x,Warn,,2001-01-01' >"$corpus/ingest/csv-groups"
    # set_bytes: mode bytes: 0 raw, 1 resealed, 2 mutations of a valid file.
    mkdir -p "$corpus/set_bytes"
    printf '\x00\x89INDSET\n\x01\x00\x00\x00' >"$corpus/set_bytes/raw-magic"
    printf '\x01\x89INDSET\n\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00' >"$corpus/set_bytes/resealed"
    printf '\x02\x00\x10\x00\x01\x00' >"$corpus/set_bytes/burst"
    printf '\x02\x01\x30\x00\x00\x00' >"$corpus/set_bytes/truncate"
    printf '\x02\x02\x18\x00\x07\x01' >"$corpus/set_bytes/resealed-count"
    printf '\x03\x00\x01\x02\x03' >"$corpus/set_bytes/replace-keys"
    printf '\x03\x04\x00\x00' >"$corpus/set_bytes/replace-meta"
    # flow_*: the captured first bytes of tests/fixtures/flow/, less the
    # bytes each target puts in front (a TLS record's type and version, a
    # method), after a knobs byte.
    local fx="$root/tests/fixtures/flow" n
    mkdir -p "$corpus/flow_tls" "$corpus/flow_http" "$corpus/flow_dns" "$corpus/flow_quic"
    for f in "$fx"/tls-*.bin; do
        n=$(basename "$f" .bin)
        { printf '\x07'; tail -c +4 "$f"; } >"$corpus/flow_tls/$n"
    done
    # flow_quic: the ClientHello bodies, in one Initial (0x00) or two (0x41).
    for f in "$fx"/tls-*[0-9a-z].bin; do
        n=$(basename "$f" .bin)
        { printf '\x00'; tail -c +10 "$f"; } >"$corpus/flow_quic/$n-one"
        { printf '\x41'; tail -c +10 "$f"; } >"$corpus/flow_quic/$n-two"
    done
    for f in "$fx"/http-curl-[0-9]*.bin "$fx"/http-curl-proxy-*.bin; do
        { printf '\x00'; tail -c +5 "$f"; } >"$corpus/flow_http/$(basename "$f" .bin)"
    done
    for f in "$fx"/http-curl-connect-*.bin; do
        { printf '\x01'; tail -c +9 "$f"; } >"$corpus/flow_http/$(basename "$f" .bin)"
    done
    for f in "$fx"/dns-dig-udp-*.bin; do
        { printf '\x05'; cat "$f"; } >"$corpus/flow_dns/$(basename "$f" .bin)"
    done
    # Targets added later fall back to an empty corpus.
    for f in $(targets); do mkdir -p "$corpus/$f"; done
    rm -f "$corpus/.urls"
}

build() {
    ensure_cargo_fuzz
    (cd "$fuzz" && cargo fuzz build "${build_flags[@]}")
}

# The log of target $1 (see FUZZ_RUN above).
log_of() {
    echo "$fuzz/logs/$1${FUZZ_RUN:+.$FUZZ_RUN}.log"
}

run() { # target, libFuzzer options...; output to its log_of
    local t=$1
    shift
    mkdir -p "$corpus_root/$t" "$fuzz/artifacts/$t" "$fuzz/logs"
    (cd "$fuzz" && cargo fuzz run "${build_flags[@]}" "$t" "$corpus_root/$t" -- \
        -dict="$fuzz/url.dict" -max_len=4096 -print_final_stats=1 "$@") \
        >"$(log_of "$t")" 2>&1
}

# The last status line, the final stats and any panic of a target's log.
summary() {
    grep -E '^#[0-9]+' "$(log_of "$1")" | tail -1 || true
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec)|panicked|^Failing input|^\s+artifacts/' \
        "$(log_of "$1")" || true
}

smoke() {
    local runs=${SMOKE_RUNS:-20000} t start failed=()
    start=$(date +%s)
    # The seeds go to a directory of their own: the kept corpora of
    # fuzz/corpus (long campaigns continue from them) stay as they are.
    corpus_root=$(mktemp -d)
    trap 'rm -rf "$corpus_root"' EXIT
    seed
    build
    echo "fuzz smoke: built in $(($(date +%s) - start)) s"
    for t in $(targets); do
        echo "== $t: $runs runs"
        run "$t" -runs="$runs" -seed=1 || failed+=("$t")
        summary "$t"
    done
    echo "fuzz smoke: $(($(date +%s) - start)) s in all"
    if [ ${#failed[@]} -ne 0 ]; then
        echo "fuzz smoke: FAILED: ${failed[*]} (logs in fuzz/logs/, inputs in fuzz/artifacts/)" >&2
        exit 1
    fi
}

# One target at a time, one job (in-process, as -jobs=1 but without a
# forked worker), so the campaign takes one core of the two.
campaign() {
    local amount=${1:-10000000} t limit start failed=()
    shift || true
    case $amount in
        *s) limit=-max_total_time="${amount%s}" ;;
        *) limit=-runs="$amount" ;;
    esac
    [ -d "$corpus_root" ] || seed
    build
    for t in ${@:-$(targets)}; do
        echo "== $t: $limit"
        start=$(date +%s)
        run "$t" "$limit" || failed+=("$t")
        echo "$t: $(($(date +%s) - start)) s"
        summary "$t"
    done
    if [ ${#failed[@]} -ne 0 ]; then
        echo "fuzz campaign: FAILED: ${failed[*]}" >&2
        exit 1
    fi
}

case ${1:-} in
    seed) seed ;;
    smoke) smoke ;;
    campaign) shift; campaign "$@" ;;
    repro) build; (cd "$fuzz" && cargo fuzz run "${build_flags[@]}" "$2" "$3") ;;
    *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
