#!/usr/bin/env python3
"""Turns target/bench-results.json (written by `cargo bench --bench suite`)
into BENCHMARKS.md's tables (between the `<!-- results:begin -->` and
`<!-- results:end -->` markers) and bench/results/scaling.svg.

Standard library only: the SVG is written by hand, so CI needs no plotting
package.

    python3 scripts/chart.py [RESULTS.json]
"""

import json
import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "BENCHMARKS.md")
SVG = os.path.join(ROOT, "bench", "results", "scaling.svg")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

SIZES = ["10k", "100k", "1m", "10m"]
SIZE_N = {"10k": 1e4, "100k": 1e5, "1m": 1e6, "10m": 1e7}
ENGINES = [("indset", "indset"), ("hashwalk", "canonicalising walk"), ("plainwalk", "plain walk"),
           ("adblock", "adblock 0.13.5")]


def get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def ns(x):
    if x is None:
        return "n/a"
    if x >= 1e6:
        return f"{x / 1e6:.2f} ms"
    if x >= 1e4:
        return f"{x / 1e3:.1f} µs"
    if x >= 1e3:
        return f"{x / 1e3:.2f} µs"
    return f"{x:.0f} ns"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fx(x, digits=1):
    return "n/a" if x is None else f"{x:.{digits}f}x"


def mib(b):
    return "n/a" if b is None else f"{b / 2**20:.1f} MiB"


def status(ok):
    if ok is None:
        return "not measured"
    return "met" if ok else "**missed**"


def lookup(r, size, work, mode, engine):
    return get(r, "lookups", size, work, mode, engine)


def p50(r, size, work, mode, engine):
    return get(lookup(r, size, work, mode, engine), "single", "p50_ns")


def p50_cold(r, size, work, mode, engine):
    return get(lookup(r, size, work, mode, engine), "single_query_cold", "p50_ns")


def mean(r, size, work, mode, engine):
    return get(lookup(r, size, work, mode, engine), "criterion", "mean_ns")


WORKLOAD_ORDER = ["real", "real_match", "real_nomatch", "hit_heavy", "miss_heavy", "cold"]
SET_ORDER = ["bundled"] + SIZES
SET_NAME = {"bundled": "bundled lists (196k)", "10k": "10k", "100k": "100k", "1m": "1M", "10m": "10M"}


def cells(r):
    """Every (set, workload, mode) measured, in reading order."""
    out = []
    for size in SET_ORDER:
        works = get(r, "lookups", size) or {}
        for work in sorted(works, key=lambda w: WORKLOAD_ORDER.index(w) if w in WORKLOAD_ORDER else 99):
            for mode in ["domain", "full"]:
                if get(works, work, mode, "indset"):
                    out.append((size, work, mode))
    return out


def interleaved(r, size, work, mode, engine):
    return get(lookup(r, size, work, mode, engine), "interleaved", "median_ns")


def speedups(r, size, work, mode, peer):
    """The peer's time over ours: (batch mean, median, interleaved batch median or None)."""
    return (ratio(mean(r, size, work, mode, peer), mean(r, size, work, mode, "indset")),
            ratio(p50(r, size, work, mode, peer), p50(r, size, work, mode, "indset")),
            ratio(interleaved(r, size, work, mode, peer), interleaved(r, size, work, mode, "indset")))


def speedup_text(q):
    text = f"{fx(q[0])} batch mean, {fx(q[1])} median"
    if q[2] is not None:
        text += f", {fx(q[2])} interleaved batch median"
    return text


def meets(q, target):
    vals = [v for v in q if v is not None]
    if not vals or q[0] is None or q[1] is None:
        return None
    return all(v >= target for v in vals)


def worst(r, peer, target, only=None):
    """The worst speed-up against `peer` over every cell, and how many cells meet `target`."""
    rows = []
    for size, work, mode in cells(r):
        if only and not only(size, work, mode):
            continue
        if not lookup(r, size, work, mode, peer):
            continue
        q = speedups(r, size, work, mode, peer)
        rows.append(((size, work, mode), q, meets(q, target)))
    if not rows:
        return "not measured", None
    low = min(rows, key=lambda x: min(v for v in x[1] if v is not None) if any(v is not None for v in x[1]) else 1e9)
    met = sum(1 for x in rows if x[2])
    (size, work, mode), q, _ = low
    text = (f"{met} of {len(rows)} met; worst: {SET_NAME[size]} {work} {mode}, {speedup_text(q)}")
    known = [x[2] for x in rows if x[2] is not None]
    return text, (all(known) if len(known) == len(rows) else None if not known else False)


def spec_table(r):
    rows = []
    add = rows.append
    set1m = get(r, "sets", "1m") or {}
    bpi = set1m.get("file_bytes_per_indicator")
    add(["file size, 1M set, all sections", "<= 16 B per indicator",
         f"{bpi:.2f} B per indicator ({mib(set1m.get('file_bytes'))})" if bpi else "not measured",
         status(None if bpi is None else bpi <= 16)])
    heap = set1m.get("heap_after_open_bytes")
    ours_mem = (set1m.get("file_bytes") or 0) + (heap or 0)
    hmem = set1m.get("hashwalk_heap_bytes")
    mq = ratio(ours_mem, hmem)
    add(["memory (file + heap) against the canonicalising walk's heap, 1M", "<= 1/4",
         f"{mq:.3f} ({mib(ours_mem)} against {mib(hmem)})" if mq else "not measured",
         status(None if mq is None else mq <= 0.25)])
    ins = r.get("instructions") or {}
    for key, label, target in [("domain", "instructions per lookup, real requests, 1M, domain (mean)", 600),
                               ("full", "instructions per lookup, real requests, 1M, full (mean)", 800),
                               ("domain_hits", "instructions for a lookup that matches, domain (mean)", 1200),
                               ("full_hits", "instructions for a lookup that matches, full (mean)", 1200)]:
        v = ins.get(key)
        how = "callgrind, the requests that match" if key.endswith("hits") else "callgrind, scripts/instructions.sh"
        add([label, f"<= {target:,}", f"{v:,.0f} ({how})" if v else "not measured (valgrind, full run only)",
             status(None if v is None else v <= target)])
    cl = r.get("cache_lines") or {}
    for mode in ["domain", "full"]:
        c = cl.get(mode) or {}
        miss, match = c.get("miss") or {}, c.get("match") or {}
        if miss.get("mean") is None or match.get("mean") is None:
            add([f"cache lines of the set read per lookup, 1M, {mode} (mean)", "miss <= 2, match <= 4",
                 "not measured (valgrind, full run only)", status(None)])
            continue
        add([f"cache lines of the set read per lookup, 1M, {mode} (mean)", "miss <= 2, match <= 4",
             f"miss {miss['mean']:.1f} (p99 {miss['p99']}), match {match['mean']:.1f} (p99 {match['p99']}); "
             f"{miss['lookups'] + match['lookups']:,} real requests, valgrind's memory trace",
             status(miss["mean"] <= 2 and match["mean"] <= 4)])
    text, ok = worst(r, "hashwalk", 2)
    add(["speed against the canonicalising walk, every set, workload and mode (table below)", ">= 2x faster", text, status(ok)])
    q = speedups(r, "bundled", "real", "domain", "plainwalk") if lookup(r, "bundled", "real", "domain", "plainwalk") else None
    add(["speed against the plain walk, bundled lists, real requests, domain", ">= 1x",
         speedup_text(q) if q else "not measured", status(None if q is None else meets(q, 1))])
    lat = get(r, "dependent_load_ns", "256MiB")
    for mode in ["domain", "full"]:
        c = p50(r, "10m", "cold", mode, "indset")
        q = ratio(c, lat)
        add([f"cold 10M workload, {mode}, median", "<= 3 x one dependent load",
             f"{ns(c)} = {q:.1f} x {ns(lat)} (one load in 256 MiB)" if q else "not measured (full run only)",
             status(None if q is None else q <= 3)])
    text, ok = worst(r, "adblock", 20, only=lambda size, work, mode: work == "real")
    add(["speed against adblock, every set size, real requests", ">= 20x faster", text, status(ok)])
    allocs = max((get(w, m, "indset", "allocations_per_lookup") or 0)
                 for s in (r.get("lookups") or {}).values() for w in s.values() for m in ("domain", "full"))
    add(["heap allocations per lookup", "0", f"{allocs:g} (every workload, both modes)", status(allocs == 0)])
    add(["heap after opening the 1M set", "< 1 MiB", f"{heap} B" if heap is not None else "not measured",
         status(None if heap is None else heap < 2**20)])
    op = get(set1m, "open_us", "single_median")
    oc = get(set1m, "open_us", "criterion_median")
    add(["open 1M (map + verify)", "<= 5 ms",
         f"{op / 1e3:.2f} ms median of 50" + (f" (criterion {oc / 1e3:.2f} ms)" if oc is not None else "") if op is not None else "not measured",
         status(None if op is None else op <= 5000)])
    comp = get(r, "compile_1m", "median_ms")
    c1 = get(r, "compile_1m") or {}
    split = ""
    if c1.get("read_ms") and c1.get("finish_ms"):
        split = f" (read {min(c1['read_ms']) / 1e3:.1f} s + build {min(c1['finish_ms']) / 1e3:.1f} s, fastest run)"
    add(["compile 1M", "<= 3 s", (f"{comp / 1e3:.2f} s median of {len(c1.get('runs_ms', []))}" + split) if comp else "not measured",
         status(None if comp is None else comp <= 3000)])
    c10 = r.get("compile_10m") or {}
    if c10.get("seconds") is not None:
        rss = c10.get("peak_rss_bytes") or 0
        text = (f"{c10['seconds']:.1f} s, peak RSS {rss / 2**30:.2f} GiB "
                f"(`indset compile`, {c10.get('indicators', 0):,} indicators)")
        ok = c10["seconds"] <= 30 and rss <= 4 * 2**30
    else:
        text, ok = "not measured (full run only)", None
    add(["compile 10M", "<= 30 s, peak RSS <= 4 GiB", text, status(ok)])
    head = ["figure (docs/figures.md)", "target", "measured in this run", "status"]
    return table(head, rows)


def peers_table(r):
    """Every cell against each peer: the time of the peer over ours."""
    rows = []
    for size, work, mode in cells(r):
        hw = speedups(r, size, work, mode, "hashwalk") if lookup(r, size, work, mode, "hashwalk") else None
        pw = speedups(r, size, work, mode, "plainwalk") if lookup(r, size, work, mode, "plainwalk") else None
        ab = speedups(r, size, work, mode, "adblock") if lookup(r, size, work, mode, "adblock") else None
        rows.append([SET_NAME[size], work, mode,
                     speedup_text(hw) if hw else "", status(meets(hw, 2)) if hw else "",
                     speedup_text(pw) if pw else "",
                     speedup_text(ab) if ab else "",
                     status(meets(ab, 20)) if ab and work == "real" else ""])
    head = ["set", "queries", "mode", "against the canonicalising walk", ">= 2x",
            "against the plain walk", "against adblock", ">= 20x"]
    return table(head, rows)


def bundled_table(r):
    """The bundled lists: ns per query of every engine, the batch medians of the interleaved rounds first."""
    rows = []
    names = {"indset": "indset", "hashwalk": "canonicalising walk", "plainwalk": "plain walk",
             "adblock": "adblock 0.13.5", "canon": "canonicalisation alone"}
    for mode in ["domain", "full"]:
        for engine in ["indset", "plainwalk", "hashwalk", "adblock", "canon"]:
            row = [mode, names[engine]]
            seen = False
            for work in ["real", "real_match", "real_nomatch"]:
                e = lookup(r, "bundled", work, mode, engine)
                if not e:
                    row.append("")
                    continue
                seen = True
                i = e.get("interleaved") or {}
                row.append(f"{ns(i.get('median_ns'))} ({ns(get(e, 'criterion', 'mean_ns'))}; {ns(get(e, 'single', 'p50_ns'))})"
                           if i else f"({ns(get(e, 'criterion', 'mean_ns'))}; {ns(get(e, 'single', 'p50_ns'))})")
            if seen:
                rows.append(row)
    head = ["mode", "engine"] + [
        f"{w} ({get(r, 'lookups', 'bundled', w, 'domain', 'indset', 'queries') or 0:,} / "
        f"{get(r, 'lookups', 'bundled', w, 'full', 'indset', 'queries') or 0:,} queries)"
        for w in ["real", "real_match", "real_nomatch"]]
    return table(head, rows)


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def workload_table(r):
    rows = []
    for size, work, mode in cells(r):
        w = get(r, "lookups", size, work)
        o = get(w, mode, "indset") or {}
        for engine, name in ENGINES + [("canon", "canonicalisation alone")]:
            e = get(w, mode, engine)
            if not e:
                continue
            s = e.get("single") or {}
            m = get(e, "criterion", "mean_ns")
            extra = ""
            if engine == "hashwalk":
                extra = f"{e.get('disagreements', 0)} disagreements"
            if engine == "plainwalk":
                extra = f"{e.get('match_disagreements', 0)} match/no-match differences"
            if engine == "adblock":
                extra = f"{e.get('unparsed', 0)} unparsable"
            c = e.get("single_query_cold") or {}
            rows.append([SET_NAME[size], work, mode, name, ns(s.get("p50_ns")), ns(s.get("p99_ns")),
                         ns(c.get("p50_ns")), ns(c.get("p99_ns")), ns(m),
                         "" if engine == "indset" else fx(ratio(m, get(o, "criterion", "mean_ns"))),
                         f"{100 * (e.get('hit_rate') or 0):.1f}%",
                         f"{e.get('allocations_per_lookup', 0):g}", extra])
    head = ["set", "queries", "mode", "engine", "median", "p99", "median, query cold", "p99, query cold",
            "batch mean", "batch mean / indset's",
            "hits", "allocs/lookup", "check"]
    return table(head, rows)


def sets_table(r):
    rows = []
    for size in SET_ORDER:
        s = get(r, "sets", size)
        if not s:
            continue
        rows.append([SET_NAME[size], f"{s['indicators']:,}", mib(s["file_bytes"]), f"{s['file_bytes_per_indicator']:.2f}",
                     f"{s['build_ms'] / 1e3:.2f} s", f"{s['heap_after_open_bytes']} B",
                     mib(s["hashwalk_heap_bytes"]), mib(s.get("plainwalk_heap_bytes")), mib(s.get("hashset_string_heap_bytes")),
                     mib(s.get("adblock_heap_bytes")) if s.get("adblock_heap_bytes") is not None else "not built",
                     f"{s['adblock_build_ms'] / 1e3:.1f} s" if s.get("adblock_build_ms") else ""])
    head = ["set", "indicators", "file", "B/indicator", "build", "heap after open", "canonicalising walk heap",
            "plain walk heap", "HashSet<String> of every value, heap", "adblock heap", "adblock build"]
    return table(head, rows)


# ---- SVG ----------------------------------------------------------------

COLOURS = {("indset", "domain"): "#1f77b4", ("indset", "full"): "#0b3d91",
           ("hashwalk", "domain"): "#ff7f0e", ("hashwalk", "full"): "#b35900",
           ("plainwalk", "domain"): "#9467bd",
           ("adblock", "domain"): "#2ca02c", ("adblock", "full"): "#176117"}


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Panel:
    def __init__(self, x, y, w, h, xr, yr, xlog, ylog, title, xlabel, ylabel):
        self.x, self.y, self.w, self.h = x, y, w, h
        self.xr, self.yr, self.xlog, self.ylog = xr, yr, xlog, ylog
        self.parts = [f'<text x="{x + w / 2}" y="{y - 12}" text-anchor="middle" font-weight="bold">{esc(title)}</text>',
                      f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="none" stroke="#888"/>',
                      f'<text x="{x + w / 2}" y="{y + h + 36}" text-anchor="middle">{esc(xlabel)}</text>',
                      f'<text transform="translate({x - 48},{y + h / 2}) rotate(-90)" text-anchor="middle">{esc(ylabel)}</text>']

    def _t(self, v, r, log):
        lo, hi = r
        if log:
            v, lo, hi = math.log10(v), math.log10(lo), math.log10(hi)
        return (v - lo) / (hi - lo) if hi > lo else 0.5

    def px(self, v):
        return self.x + self._t(v, self.xr, self.xlog) * self.w

    def py(self, v):
        return self.y + self.h - self._t(max(v, self.yr[0]), self.yr, self.ylog) * self.h

    def xtick(self, v, label):
        x = self.px(v)
        self.parts.append(f'<line x1="{x}" y1="{self.y + self.h}" x2="{x}" y2="{self.y + self.h + 5}" stroke="#888"/>'
                          f'<text x="{x}" y="{self.y + self.h + 18}" text-anchor="middle">{esc(label)}</text>')

    def ytick(self, v, label):
        y = self.py(v)
        self.parts.append(f'<line x1="{self.x}" y1="{y}" x2="{self.x + self.w}" y2="{y}" stroke="#eee"/>'
                          f'<text x="{self.x - 6}" y="{y + 4}" text-anchor="end">{esc(label)}</text>')

    def line(self, pts, colour, dashed=False):
        if not pts:
            return
        d = " ".join(f"{self.px(a):.1f},{self.py(b):.1f}" for a, b in pts)
        dash = ' stroke-dasharray="6,4"' if dashed else ""
        self.parts.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for a, b in pts:
            self.parts.append(f'<circle cx="{self.px(a):.1f}" cy="{self.py(b):.1f}" r="3" fill="{colour}"/>')


def log_ticks(lo, hi):
    out, v = [], 10 ** math.floor(math.log10(lo))
    while v <= hi * 1.0001:
        for m in (1, 2, 5):
            if lo <= v * m <= hi:
                out.append(v * m)
        v *= 10
    return out


def chart(r):
    series = {}
    for engine, _ in ENGINES:
        for mode in ["domain", "full"]:
            pts = [(SIZE_N[s], p50(r, s, "real", mode, engine)) for s in SIZES]
            pts = [(a, b) for a, b in pts if b]
            if pts:
                series[(engine, mode)] = pts
    lengths = {}
    for engine in ["indset", "hashwalk"]:
        for mode in ["full", "domain"]:
            b = get(lookup(r, "1m", "real", mode, engine), "by_length") or []
            lengths[(engine, mode)] = [((x["from"] + x["to"]) / 2, x["median_ns"]) for x in b]
    ys = [b for s in series.values() for _, b in s if b > 0] or [1, 1000]
    y_lo, y_hi = 10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys)))
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="980" height="470" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>']
    a = Panel(80, 50, 380, 300, (1e4, 1e7), (y_lo, y_hi), True, True,
              "Median lookup vs set size (real requests)", "indicators in the set", "ns per lookup (log)")
    for v, label in [(1e4, "10k"), (1e5, "100k"), (1e6, "1M"), (1e7, "10M")]:
        a.xtick(v, label)
    for v in log_ticks(y_lo, y_hi):
        a.ytick(v, ns(v))
    for (engine, mode), pts in series.items():
        a.line(pts, COLOURS[(engine, mode)], dashed=(mode == "domain"))
    lx = [x for s in lengths.values() for x, _ in s] or [0, 1]
    ly = [y for s in lengths.values() for _, y in s] or [0, 1]
    b = Panel(570, 50, 380, 300, (0, max(lx) * 1.05), (0, max(ly) * 1.1), False, False,
              "Median lookup vs query length (1M set)", "query length, bytes (bucket middle)", "ns per lookup")
    step = 10 ** math.floor(math.log10(max(ly) * 1.1 / 2)) if max(ly) > 0 else 1
    v = 0
    while v <= max(ly) * 1.1:
        b.ytick(v, f"{v:g}")
        v += step
    xstep = 64 if max(lx) > 128 else 8
    v = 0
    while v <= max(lx):
        b.xtick(v, f"{v:g}")
        v += xstep
    for key, pts in lengths.items():
        b.line(pts, COLOURS[key], dashed=(key[1] == "domain"))
    parts += a.parts + b.parts
    names = dict(ENGINES)
    legend = [k for k in COLOURS if k in series or lengths.get(k)]
    for i, (engine, mode) in enumerate(legend):
        x = 80 + (i % 3) * 290
        y = 410 + (i // 3) * 20
        dash = ' stroke-dasharray="6,4"' if mode == "domain" else ""
        parts.append(f'<line x1="{x}" y1="{y}" x2="{x + 30}" y2="{y}" stroke="{COLOURS[(engine, mode)]}" stroke-width="2"{dash}/>'
                     f'<text x="{x + 36}" y="{y + 4}">{esc(names[engine])}, {mode} mode</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def latency_sentence(r):
    lat = r.get("dependent_load_ns") or {}
    if not lat:
        return ""
    items = sorted(lat.items(), key=lambda kv: float(kv[0][:-3]))
    parts = ", ".join(f"{v:.0f} ns in {k[:-3]} MiB" for k, v in items)
    return f" One dependent load from memory not in the cache (a random cycle of 64-byte lines): {parts}."


def demo_sentence(r):
    same = r.get("bundled_is_demo_set")
    n = get(r, "sets", "bundled", "indicators")
    b = get(r, "sets", "bundled", "file_bytes")
    if n is None:
        return ""
    check = {True: "byte for byte the file `scripts/demo.sh` compiles",
             False: "**not** the file `scripts/demo.sh` compiles (see the run's log)",
             None: "compiled as `scripts/demo.sh` compiles it (not compared in a quick run)"}[same]
    return f"{n:,} indicators, {b:,} bytes, {check}. "


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "bench-results.json")
    r = json.load(open(path))
    m = r.get("machine", {})
    summary = [
        f"Run: {m.get('nproc')} cores, {m.get('cpu')}, {m.get('rustc', '')}; load average "
        f"{m.get('load_start')} at the start, {r.get('load_end')} at the end; "
        f"suite {r.get('suite_seconds', 0) / 60:.1f} min"
        + (f" ({r['wall_seconds_with_compile'] / 60:.1f} min with the build)" if r.get("wall_seconds_with_compile") else "")
        + f"; timer overhead {r.get('timer_overhead_ns', 0):.0f} ns subtracted from single-lookup times."
        + latency_sentence(r)
        + (" **Quick smoke run: not for the record.**" if r.get("quick") else ""),
        "",
        "### The figures of docs/figures.md",
        "",
        spec_table(r),
        "",
        "### The bundled lists, real requests",
        "",
        demo_sentence(r) + "Nanoseconds per query: the interleaved batch median (every engine's pass over every workload, "
        "side by side, in pieces of 512 queries; each piece's median over the rounds, summed), then in brackets "
        "criterion's batch mean and the single-lookup median. "
        "`real_match` / `real_nomatch` are the requests the set matches / does not match in that mode.",
        "",
        bundled_table(r),
        "",
        "### Against the peers, every workload",
        "",
        "The peer's time over ours (above 1: we are faster): criterion's batch mean, the single-lookup "
        "median and, for the bundled lists, the interleaved batch median.",
        "",
        peers_table(r),
        "",
        "### Sets",
        "",
        sets_table(r),
        "",
        "### Every workload",
        "",
        workload_table(r),
        "",
        "![median lookup against set size and query length](bench/results/scaling.svg)",
    ]
    os.makedirs(os.path.dirname(SVG), exist_ok=True)
    with open(SVG, "w") as f:
        f.write(chart(r))
    doc = open(DOC).read()
    if BEGIN not in doc or END not in doc:
        sys.exit(f"{DOC}: the {BEGIN} / {END} markers are missing")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(DOC, "w") as f:
        f.write(head + BEGIN + "\n" + "\n".join(summary) + "\n" + END + tail)
    print(f"wrote {DOC} and {SVG}")


if __name__ == "__main__":
    main()
