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
ENGINES = [("indset", "indset"), ("hashwalk", "HashMap suffix walk"), ("adblock", "adblock 0.13.5")]


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


def spec_table(r):
    rows = []
    add = rows.append
    set1m = get(r, "sets", "1m") or {}
    for mode, label, target in [("domain", "domain lookup, median", 60), ("full", "full-URL lookup incl. canonicalisation, median", 250)]:
        ours = p50(r, "1m", "real", mode, "indset")

        def cell(engine):
            return (f"{ns(p50(r, '1m', 'real', mode, engine))} (query cold {ns(p50_cold(r, '1m', 'real', mode, engine))};"
                    f" batch mean {ns(mean(r, '1m', 'real', mode, engine))})")
        add([label, f"<= {target} ns", cell("indset"), cell("hashwalk"), cell("adblock"),
             status(None if ours is None else ours <= target)])
    for mode in ["domain", "full"]:
        o = get(lookup(r, "1m", "real", mode, "indset"), "single") or {}
        h = get(lookup(r, "1m", "real", mode, "hashwalk"), "single") or {}
        a = get(lookup(r, "1m", "real", mode, "adblock"), "single") or {}
        q = ratio(o.get("p99_ns"), o.get("p50_ns"))
        add([f"p99 of {mode} lookup", "<= 3 x median",
             f"{ns(o.get('p99_ns'))} = {fx(q)} median",
             f"{ns(h.get('p99_ns'))} = {fx(ratio(h.get('p99_ns'), h.get('p50_ns')))}",
             f"{ns(a.get('p99_ns'))} = {fx(ratio(a.get('p99_ns'), a.get('p50_ns')))}",
             status(None if q is None else q <= 3)])
    allocs = {e: max((get(w, m, e, "allocations_per_lookup") or 0)
                     for s in (r.get("lookups") or {}).values() for w in s.values() for m in ("domain", "full"))
              for e, _ in ENGINES}
    add(["heap allocations per lookup", "0", f"{allocs['indset']:g} (every workload, both modes)",
         f"{allocs['hashwalk']:g}", f"{allocs['adblock']:.2f}", status(allocs["indset"] == 0)])
    bpi = set1m.get("file_bytes_per_indicator")
    add(["compiled file size", "<= 16 B/indicator",
         f"{bpi:.2f} B/indicator ({mib(set1m.get('file_bytes'))})" if bpi else "n/a",
         f"{set1m.get('hashwalk_heap_bytes_per_indicator', 0):.1f} B/indicator heap",
         f"{set1m.get('adblock_heap_bytes_per_indicator', 0):.1f} B/indicator heap",
         status(None if bpi is None else bpi <= 16)])
    heap = set1m.get("heap_after_open_bytes")
    add(["heap after opening the set", "< 1 MiB", f"{heap} B" if heap is not None else "n/a",
         mib(set1m.get("hashwalk_heap_bytes")), mib(set1m.get("adblock_heap_bytes")),
         status(None if heap is None else heap < 2**20)])
    op = get(set1m, "open_us", "single_median")
    add(["open (map + verify)", "<= 5 ms",
         f"{op / 1e3:.2f} ms (criterion {get(set1m, 'open_us', 'criterion_median') / 1e3:.2f} ms)" if op is not None and get(set1m, 'open_us', 'criterion_median') is not None else "n/a",
         "n/a (built in memory)",
         f"engine build {set1m.get('adblock_build_ms', 0) / 1e3:.1f} s" if set1m.get("adblock_build_ms") else "n/a",
         status(None if op is None else op <= 5000)])
    comp = get(r, "compile_1m", "median_ms")
    c1 = get(r, "compile_1m") or {}
    split = ""
    if c1.get("read_ms") and c1.get("finish_ms"):
        split = f" (read {min(c1['read_ms']) / 1e3:.1f} s + build and free {min(c1['finish_ms']) / 1e3:.1f} s, fastest run)"
    add(["compile (read + build, 1M)", "<= 3 s", (f"{comp / 1e3:.2f} s" + split) if comp else "n/a", "", "",
         status(None if comp is None else comp <= 3000)])
    for mode in ["domain", "full"]:
        o, h = mean(r, "1m", "real", mode, "indset"), mean(r, "1m", "real", mode, "hashwalk")
        q, q50 = ratio(h, o), ratio(p50(r, "1m", "real", mode, "hashwalk"), p50(r, "1m", "real", mode, "indset"))
        add([f"vs HashMap suffix walk, {mode}: speed", ">= 2x faster", f"{fx(q)} (batch mean), {fx(q50)} (median)",
             f"{ns(h)}", "", status(None if q is None else q >= 2)])
    ours_mem = (set1m.get("file_bytes") or 0) + (heap or 0)
    hmem = set1m.get("hashwalk_heap_bytes")
    hs = set1m.get("hashset_string_heap_bytes")
    mq = ratio(ours_mem, hmem)
    add(["vs HashMap suffix walk: memory", "<= 1/3", f"{mib(ours_mem)} file + heap = {mq:.2f} of its heap" if mq else "n/a",
         f"{mib(hmem)} (a bare HashSet<String>: {mib(hs)}, ours = {ratio(ours_mem, hs):.2f} of it)" if hs else mib(hmem), "",
         status(None if mq is None else mq <= 1 / 3)])
    for mode in ["full", "domain"]:
        o, a = mean(r, "1m", "real", mode, "indset"), mean(r, "1m", "real", mode, "adblock")
        q, q50 = ratio(a, o), ratio(p50(r, "1m", "real", mode, "adblock"), p50(r, "1m", "real", mode, "indset"))
        add([f"vs adblock, {mode}: speed", ">= 20x faster", f"{fx(q)} (batch mean), {fx(q50)} (median)",
             "", f"{ns(a)}", status(None if q is None else q >= 20)])
    head = ["figure (1M set, real requests)", "target", "indset", "HashMap suffix walk", "adblock", "status"]
    return table(head, rows)


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def workload_table(r):
    rows = []
    for size in SIZES:
        for work, w in (get(r, "lookups", size) or {}).items():
            for mode in ["domain", "full"]:
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
                    if engine == "adblock":
                        extra = f"{e.get('unparsed', 0)} unparsable"
                    c = e.get("single_query_cold") or {}
                    rows.append([size, work, mode, name, ns(s.get("p50_ns")), ns(s.get("p99_ns")),
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
    for size in SIZES:
        s = get(r, "sets", size)
        if not s:
            continue
        rows.append([size, s["indicators"], mib(s["file_bytes"]), f"{s['file_bytes_per_indicator']:.2f}",
                     f"{s['build_ms'] / 1e3:.2f} s", f"{s['heap_after_open_bytes']} B",
                     mib(s["hashwalk_heap_bytes"]), mib(s.get("hashset_string_heap_bytes")),
                     mib(s.get("adblock_heap_bytes")) if s.get("adblock_heap_bytes") is not None else "not built",
                     f"{s['adblock_build_ms'] / 1e3:.1f} s" if s.get("adblock_build_ms") else ""])
    head = ["set", "indicators", "file", "B/indicator", "build", "heap after open", "HashMap walk heap",
            "HashSet<String> heap", "adblock heap", "adblock build"]
    return table(head, rows)


# ---- SVG ----------------------------------------------------------------

COLOURS = {("indset", "domain"): "#1f77b4", ("indset", "full"): "#0b3d91",
           ("hashwalk", "domain"): "#ff7f0e", ("hashwalk", "full"): "#b35900",
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
        "### SPEC 6",
        "",
        spec_table(r),
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
