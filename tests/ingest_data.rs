//! The bundled real lists in `data/`, read with `--format auto`: exact
//! counts per outcome and code, derived independently of this crate.
//!
//! How each count was derived (shell and Python on the files themselves):
//!
//! - `urlhaus-indicators.csv`: Python's `csv` module: 6,254 rows of 12
//!   fields, types `Url` 3,345, `DomainName` 602, `IpAddress` 2,307; all
//!   actions `Block`, no expiration, no groups; no `Url`/`DomainName` host
//!   is a dotted quad, none has a `*`, a scheme other than http(s) or a
//!   non-ASCII byte; no domain is a public suffix. Keys (type, lower-cased
//!   host, path with runs of `/` collapsed, `docs/canonicalisation.md`, Path) have 15
//!   repeats: `grep -c 'original//rump_img'` = 1 beside its single-slash
//!   twin, and 14 `web.archive.org/web/...if_/http://154.216.19.139/...`
//!   rows each beside an `http:/154...` twin (`grep -c 'if_/http:/1'` =
//!   14): 15 duplicates, 3,932 accepted.
//! - `urlhaus-filter-online.txt`: `grep -c '^!'` = 6 adblock comments and
//!   `grep -c '^||'` = 3,346 adblock rules (both `malformed-row` in the
//!   text format); of the other 2,908 lines, `grep -cE
//!   '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$'` = 2,307 bare IPv4 addresses
//!   (`ip-indicator`) and 601 distinct one-word domains.
//! - `stevenblack-hosts-2019.txt`: Python, per line: drop the text after
//!   `#`, split on white space, every word after the first is a name unless
//!   it is `localhost`, `localhost.localdomain`, `local`, `broadcasthost`,
//!   `0.0.0.0` or starts with `ip6-`: 55,983 names (as the file's header
//!   says), 2 of them dotted quads (`130.211.230.53`, `85.17.187.83`), all
//!   distinct, 3 public suffixes (`redirectme.net`, `hopto.org`,
//!   `zapto.org`).
//! - `eth-phishing-detect.txt`: Python: 1,138 `allow` + 13,752 `block`
//!   lines = 14,890 rows; 5 are dotted quads; `awk '{print $2}' | sort |
//!   uniq -d` gives 3 names that are both allowed and blocked
//!   (`coinbased.xyz`, `metmask.com`, `spi.club`): 3 conflicts; no public
//!   suffix.
//! - `disposable-email-domains.txt`: 121,570 non-comment lines, all
//!   distinct after lower-casing; 12 contain non-ASCII letters (IDN), and
//!   each of the 12 is also in the file in punycode (`desayuno-étnico.info`
//!   and `xn--desayuno-tnico-jkb.info`; Python's `encodings.idna` on each
//!   IDN name finds its twin): 12 duplicates; 25 are public suffixes (`ddns.net`, `edu.pl`, `za.com`, ...).
//!
//! Public suffixes were checked with a small Python implementation of the
//! Public Suffix List algorithm over the rules file bundled in the `psl`
//! crate (`data/rules.txt`), exceptions and wildcards included.

use std::path::PathBuf;

use indset::ingest::{Format, Ingester, Options, Report};
use indset::{Code, Timestamp};

/// 2025-10-25T00:00:00Z, the date of the URLhaus snapshot.
const NOW: Timestamp = Timestamp(1_761_350_400);

struct Expect {
    file: &'static str,
    rows: u64,
    accepted: u64,
    rejected: &'static [(Code, u64)],
    merged: &'static [(Code, u64)],
    public_suffixes: u64,
}

/// The expected counts.
///
/// `stevenblack-hosts-2019.txt` (16 names) and `eth-phishing-detect.txt`
/// (2 names) have `_` in a label (`ghm_bulgaria.hit.gemius.pl`,
/// `___id___.c.mystat-in.net`): accepted, as browsers resolve such names
/// (UTS #46 without the STD3 rules).
const TABLE: &[Expect] = &[
    Expect {
        file: "urlhaus-indicators.csv",
        rows: 6_254,
        accepted: 3_932,
        rejected: &[(Code::IpIndicator, 2_307)],
        merged: &[(Code::Duplicate, 15)],
        public_suffixes: 0,
    },
    Expect {
        file: "urlhaus-filter-online.txt",
        rows: 6_260,
        accepted: 601,
        rejected: &[(Code::IpIndicator, 2_307), (Code::MalformedRow, 3_352)],
        merged: &[],
        public_suffixes: 0,
    },
    Expect {
        file: "stevenblack-hosts-2019.txt",
        rows: 55_983,
        accepted: 55_981,
        rejected: &[(Code::IpIndicator, 2)],
        merged: &[],
        public_suffixes: 3,
    },
    Expect {
        file: "eth-phishing-detect.txt",
        rows: 14_890,
        accepted: 14_882,
        rejected: &[(Code::IpIndicator, 5)],
        merged: &[(Code::Conflict, 3)],
        public_suffixes: 0,
    },
    Expect {
        file: "disposable-email-domains.txt",
        rows: 121_570,
        accepted: 121_558,
        rejected: &[],
        merged: &[(Code::Duplicate, 12)],
        public_suffixes: 25,
    },
];

fn data(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(file)
}

fn ingest(file: &str) -> (Vec<indset::Indicator>, Report) {
    let mut ing = Ingester::new(Options::at(NOW));
    ing.read_path(&data(file), Format::Auto)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    ing.finish()
}

#[test]
fn bundled_lists_give_the_derived_counts() {
    for e in TABLE {
        let (indicators, r) = ingest(e.file);
        let f = e.file;
        assert_eq!(r.rows(), e.rows, "{f}: rows\n{r}");
        assert_eq!(r.accepted(), e.accepted, "{f}: accepted\n{r}");
        assert_eq!(indicators.len() as u64, e.accepted, "{f}: indicators");
        for &(code, n) in e.rejected {
            assert_eq!(r.rejected_by(code), n, "{f}: {code}\n{r}");
        }
        let rejected: u64 = e.rejected.iter().map(|&(_, n)| n).sum();
        assert_eq!(r.rejected(), rejected, "{f}: rejected\n{r}");
        for &(code, n) in e.merged {
            assert_eq!(r.merged_by(code), n, "{f}: {code}\n{r}");
        }
        let merged: u64 = e.merged.iter().map(|&(_, n)| n).sum();
        assert_eq!(r.merged(), merged, "{f}: merged\n{r}");
        assert_eq!(r.skipped(), 0, "{f}: skipped\n{r}");
        assert_eq!(
            r.public_suffixes(),
            e.public_suffixes,
            "{f}: public suffixes"
        );
        assert_eq!(r.file_errors(), 0, "{f}: file errors\n{r}");
        assert!(r.adds_up(), "{f}: {r}");
        assert_eq!(
            e.accepted + rejected + merged,
            e.rows,
            "{f}: the table itself adds up"
        );
    }
}

#[test]
fn urlhaus_csv_summary_line() {
    let (_, r) = ingest("urlhaus-indicators.csv");
    assert_eq!(
        r.to_string(),
        "6254 rows: 3932 accepted, 2307 rejected (2307 ip-indicator), 0 skipped, 15 merged \
         (15 duplicate); 1307 diagnostics not kept in the report (1307 ip-indicator)"
    );
    assert_eq!(r.diagnostics().len(), 1000 + 15);
}

#[test]
fn auto_detection_picks_each_files_format() {
    let head = |f: &str| {
        let bytes = std::fs::read(data(f)).unwrap();
        bytes[..bytes.len().min(8192)].to_vec()
    };
    let table = [
        ("urlhaus-indicators.csv", Format::Csv),
        ("urlhaus-filter-online.txt", Format::Text),
        ("stevenblack-hosts-2019.txt", Format::Hosts),
        ("eth-phishing-detect.txt", Format::Text),
        ("disposable-email-domains.txt", Format::Text),
    ];
    for (f, want) in table {
        assert_eq!(Format::Auto.detect(f, &head(f)), want, "{f}");
        // Without a telling extension, the content decides alike.
        assert_eq!(
            Format::Auto.detect("stdin", &head(f)),
            want,
            "{f} by content"
        );
    }
}

#[test]
fn conflicts_in_eth_list_keep_the_allow() {
    let (indicators, r) = ingest("eth-phishing-detect.txt");
    for name in ["coinbased.xyz", "metmask.com", "spi.club"] {
        let found: Vec<_> = indicators.iter().filter(|i| i.host == name).collect();
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!(found[0].action, indset::Action::Allow, "{name}");
        let d = r
            .diagnostics()
            .iter()
            .find(|d| d.code == Code::Conflict && d.message.contains(name))
            .unwrap_or_else(|| panic!("no conflict for {name}"));
        assert!(d.message.contains("block here loses to allow"), "{d}");
    }
}

#[test]
fn rows_with_adblock_syntax_say_so() {
    let (_, r) = ingest("urlhaus-filter-online.txt");
    let first = &r.diagnostics()[0];
    assert_eq!(first.line, 1);
    assert_eq!(first.code, Code::MalformedRow);
    assert!(first.message.contains("adblock comment"), "{first}");
    let rule = r
        .diagnostics()
        .iter()
        .find(|d| d.message.contains("adblock filter rule"))
        .unwrap();
    assert!(rule.message.contains("`||"), "{rule}");
}
