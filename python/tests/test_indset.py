"""The Python binding against the `indset` command line on the same set."""

import json
import os
import pathlib
import subprocess

import pyarrow as pa
import pytest

import indset

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("INDSET_BIN", str(ROOT / "target" / "release" / "indset"))
NOW = 1_780_000_000  # 2026-05-28T20:26:40Z

PORTAL = """\
IndicatorType,IndicatorValue,ExpirationTime,Action,Title
DomainName,example.com,,Block,Example block
Url,https://example.com/safe,,Allowed,Safe page
DomainName,tracker.example.net,,Audit,Tracker
Url,http://shop.example.org/login,,Warn,Phishy login
DomainName,old.example,2026-01-01T00:00:00Z,Block,Expiring
"""


@pytest.fixture(scope="module")
def set_path(tmp_path_factory):
    d = tmp_path_factory.mktemp("set")
    (d / "portal.csv").write_text(PORTAL)
    out = d / "set.indset"
    subprocess.run(
        [BIN, "compile", "--now", "2025-01-01T00:00:00Z", "-o", str(out), "portal.csv"],
        cwd=d,
        check=True,
        capture_output=True,
    )
    return out


def test_check_answers_by_precedence(set_path):
    s = indset.Set.open(set_path)
    assert len(s) == 5
    v = s.check("https://www.EXAMPLE.com:443/a", now=NOW)
    assert (v.decision, v.indicator, v.audit, v.invalid) == ("block", "portal.csv:2", None, False)
    # The more specific Url indicator wins over the domain.
    assert s.check("https://example.com/safe/page", now=NOW).decision == "allow"
    assert s.check("http://shop.example.org/login?x=1", now=NOW).decision == "warn"
    v = s.check("https://tracker.example.net/p", now=NOW)
    assert (v.decision, v.indicator, v.audit) == ("audit", None, "portal.csv:4")
    assert s.check("example.org", "domain", now=NOW).decision == "none"
    # Domain mode never applies path indicators.
    assert s.check("example.com", mode="domain", now=NOW).decision == "block"
    # Expired at `now`, live before it.
    assert s.check("old.example", now=NOW).decision == "none"
    assert s.check("old.example", now=1_700_000_000).decision == "block"
    # What `indset lookup` answers with "invalid":true.
    assert s.check("http://", now=NOW).invalid
    assert s.check("ftp://x.test/", now=NOW).invalid
    assert "decision='block'" in repr(s.check("example.com", now=NOW))


def test_from_bytes_equals_open_and_bad_input_raises(set_path):
    a = indset.Set.open(set_path)
    b = indset.Set.from_bytes(set_path.read_bytes())
    for q in ["https://example.com/safe", "https://a.example.com/", "x.test"]:
        assert a.check(q, now=NOW).decision == b.check(q, now=NOW).decision
    with pytest.raises(ValueError, match="not a valid set"):
        indset.Set.from_bytes(b"not a set")
    with pytest.raises(OSError, match="cannot use the set"):
        indset.Set.open(set_path.parent / "missing.indset")
    with pytest.raises(ValueError, match="use \"full\" or \"domain\""):
        a.check("example.com", mode="url")


def test_check_batch_equals_lookup_on_the_real_requests(set_path):
    """Every request URL of data/, batched, against `indset lookup`."""
    import gzip

    with gzip.open(ROOT / "data" / "requests-top500-2019.jsonl.gz", "rt") as f:
        urls = [json.loads(line).get("url") for line in f if line.strip()]
    urls = [u for u in urls if isinstance(u, str) and u and u == u.strip() and not u.startswith("{")]
    bundled = set_path.parent / "bundled.indset"
    data = ROOT / "data"
    subprocess.run(
        [BIN, "compile", "--now", "2026-01-01T00:00:00Z", "-o", str(bundled),
         str(data / "urlhaus-indicators.csv"), str(data / "stevenblack-hosts-2019.txt"),
         str(data / "eth-phishing-detect.txt"), str(data / "disposable-email-domains.txt")],
        check=True, capture_output=True,
    )
    lookup = subprocess.run(
        [BIN, "lookup", "--set", str(bundled), "--now", "2026-06-01T00:00:00Z"],
        input="\n".join(urls) + "\n", capture_output=True, text=True, check=True,
    )
    want = [json.loads(line) for line in lookup.stdout.splitlines()]
    assert len(want) == len(urls)
    s = indset.Set.open(bundled)
    decisions, ids = s.check_batch(pa.array(urls), now=1_780_272_000)
    assert decisions.type == pa.string() and len(decisions) == len(urls)
    got_ids = ids.to_pylist()
    for i, w in enumerate(want):
        expect_id = (w["indicator"] or w["audit"] or {}).get("id")
        assert (decisions[i].as_py(), got_ids[i]) == (w["action"], expect_id), urls[i]
    # The bundled lists block thousands of these (the README's demo).
    assert decisions.to_pylist().count("block") > 10_000


def test_check_batch_takes_large_strings_and_nulls_and_refuses_other_types(set_path):
    s = indset.Set.open(set_path)
    arr = pa.array(["https://example.com/", None, "https://example.com/safe"], type=pa.large_string())
    decisions, ids = s.check_batch(arr, now=NOW)
    assert decisions.to_pylist() == ["block", None, "allow"]
    assert ids.to_pylist() == ["portal.csv:2", None, "portal.csv:3"]
    sliced = pa.array(["a.test", "example.com", "b.test"]).slice(1, 1)
    assert s.check_batch(sliced, "domain", now=NOW)[0].to_pylist() == ["block"]
    with pytest.raises(TypeError, match="string array"):
        s.check_batch(pa.array([1, 2]))
    with pytest.raises(TypeError, match="pyarrow Array"):
        s.check_batch(["example.com"])


def test_check_batch_takes_a_tables_column(set_path):
    # A table's column is a ChunkedArray: the answers come back in the
    # same chunks, equal to the checks of the chunks one by one.
    s = indset.Set.open(set_path)
    column = pa.table(
        {"url": pa.chunked_array([["https://example.com/", None], [], ["https://example.com/safe", "https://x.test/"]])}
    )["url"]
    decisions, ids = s.check_batch(column, now=NOW)
    assert isinstance(decisions, pa.ChunkedArray) and isinstance(ids, pa.ChunkedArray)
    assert [len(c) for c in decisions.chunks] == [2, 0, 2]
    assert decisions.to_pylist() == ["block", None, "allow", "none"]
    assert ids.to_pylist() == ["portal.csv:2", None, "portal.csv:3", None]
    for chunk, d in zip(column.chunks, decisions.chunks):
        assert s.check_batch(chunk, now=NOW)[0].equals(d)
    empty = s.check_batch(pa.chunked_array([], type=pa.string()), now=NOW)
    assert [len(a) for a in empty] == [0, 0]
    with pytest.raises(TypeError, match="string array"):
        s.check_batch(pa.chunked_array([[1, 2]]))
