//! Every diagnostic code of `docs/inputs.md` (Outcomes), each with a twin that must pass, in
//! tables grouped by meaning. Each case is one row, read both as a csv
//! file and as a json file, so both readers map fields the same way.

use indset::ingest::{Format, Ingester, Options, Report};
use indset::{Action, Code, Indicator, Kind, Level, Timestamp};

/// 2025-10-25T00:00:00Z.
const NOW: Timestamp = Timestamp(1_761_350_400);

/// One row: type, value, action, expiration, groups; and its expected
/// code (`None`: accepted without a diagnostic).
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<Code>,
);

const IP_REJECTION: &[Case] = &[
    (
        "IpAddress",
        "1.2.3.4",
        "Block",
        "",
        "",
        Some(Code::IpIndicator),
    ),
    (
        "IpAddress",
        "2001:db8::1",
        "Block",
        "",
        "",
        Some(Code::IpIndicator),
    ),
    (
        "DomainName",
        "1.2.3.4",
        "Block",
        "",
        "",
        Some(Code::IpIndicator),
    ),
    (
        "Url",
        "http://1.2.3.4/payload.exe",
        "Block",
        "",
        "",
        Some(Code::IpIndicator),
    ),
    ("DomainName", "1-2-3-4.example", "Block", "", "", None),
    (
        "Url",
        "http://1-2-3-4.example/payload.exe",
        "Block",
        "",
        "",
        None,
    ),
];

const RESERVED_ADDRESS: &[Case] = &[
    (
        "IpAddress",
        "245.245.0.1",
        "Block",
        "",
        "",
        Some(Code::ReservedAddress),
    ),
    (
        "Url",
        "https://245.245.0.1/",
        "Block",
        "",
        "",
        Some(Code::ReservedAddress),
    ),
    (
        "DomainName",
        "245.245.0.1",
        "Allowed",
        "",
        "",
        Some(Code::ReservedAddress),
    ),
    (
        "IpAddress",
        "245.245.0.2",
        "Block",
        "",
        "",
        Some(Code::IpIndicator),
    ),
    ("DomainName", "245-245-0-1.example", "Block", "", "", None),
];

const WILDCARD: &[Case] = &[
    (
        "DomainName",
        "*.example.com",
        "Block",
        "",
        "",
        Some(Code::Wildcard),
    ),
    (
        "Url",
        "https://*.example.com/a",
        "Block",
        "",
        "",
        Some(Code::Wildcard),
    ),
    ("DomainName", "example.com", "Block", "", "", None),
];

const INVALID_HOST: &[Case] = &[
    (
        "DomainName",
        "exa mple.com",
        "Block",
        "",
        "",
        Some(Code::InvalidHost),
    ),
    ("DomainName", "", "Block", "", "", Some(Code::InvalidHost)),
    (
        "DomainName",
        "...",
        "Block",
        "",
        "",
        Some(Code::InvalidHost),
    ),
    ("DomainName", " example.com ", "Block", "", "", None),
    ("DomainName", "Example.COM.", "Block", "", "", None),
];

const UNSUPPORTED_SCHEME: &[Case] = &[
    (
        "Url",
        "ftp://example.com/a",
        "Block",
        "",
        "",
        Some(Code::UnsupportedScheme),
    ),
    (
        "Url",
        "javascript://example.com/a",
        "Block",
        "",
        "",
        Some(Code::UnsupportedScheme),
    ),
    ("Url", "https://example.com/a", "Block", "", "", None),
    ("Url", "HTTP://example.com/a", "Block", "", "", None),
    ("Url", "example.com/a", "Block", "", "", None),
];

const UNSUPPORTED_ACTION: &[Case] = &[
    (
        "Url",
        "https://example.com/a",
        "BlockAndRemediate",
        "",
        "",
        Some(Code::UnsupportedAction),
    ),
    (
        "Url",
        "https://example.com/a",
        "Blocked",
        "",
        "",
        Some(Code::UnsupportedAction),
    ),
    (
        "Url",
        "https://example.com/a",
        "",
        "",
        "",
        Some(Code::UnsupportedAction),
    ),
    ("Url", "https://example.com/a", "Block", "", "", None),
    (
        "Url",
        "https://example.com/a",
        "alertandblock",
        "",
        "",
        None,
    ),
    ("Url", "https://example.com/a", "Allowed", "", "", None),
    ("Url", "https://example.com/a", "Allow", "", "", None),
    ("Url", "https://example.com/a", "WARN", "", "", None),
    ("Url", "https://example.com/a", "Audit", "", "", None),
    ("Url", "https://example.com/a", "Alert", "", "", None),
];

const UNSUPPORTED_TYPE: &[Case] = &[
    (
        "FileSha256",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "Block",
        "",
        "",
        Some(Code::UnsupportedType),
    ),
    (
        "FileSha1",
        "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
        "Block",
        "",
        "",
        Some(Code::UnsupportedType),
    ),
    (
        "FileMd5",
        "098f6bcd4621d373cade4e832627b4f6",
        "Block",
        "",
        "",
        Some(Code::UnsupportedType),
    ),
    (
        "CertificateThumbprint",
        "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
        "Block",
        "",
        "",
        Some(Code::UnsupportedType),
    ),
    (
        "Domain",
        "example.com",
        "Block",
        "",
        "",
        Some(Code::UnsupportedType),
    ),
    (
        "",
        "example.com",
        "Block",
        "",
        "",
        Some(Code::UnsupportedType),
    ),
    ("DomainName", "example.com", "Block", "", "", None),
    ("domainname", "example.com", "Block", "", "", None),
    ("URL", "example.com/a", "Block", "", "", None),
];

const DOMAIN_WITH_PATH: &[Case] = &[
    (
        "DomainName",
        "example.com/a",
        "Block",
        "",
        "",
        Some(Code::DomainWithPath),
    ),
    (
        "DomainName",
        "https://example.com/a?b",
        "Block",
        "",
        "",
        Some(Code::DomainWithPath),
    ),
    ("Url", "example.com/a", "Block", "", "", None),
    ("DomainName", "example.com", "Block", "", "", None),
];

const BAD_EXPIRATION: &[Case] = &[
    (
        "DomainName",
        "example.com",
        "Block",
        "2025-13-01",
        "",
        Some(Code::BadExpiration),
    ),
    (
        "DomainName",
        "example.com",
        "Block",
        "tomorrow",
        "",
        Some(Code::BadExpiration),
    ),
    (
        "DomainName",
        "example.com",
        "Block",
        "31/12/2030",
        "",
        Some(Code::BadExpiration),
    ),
    (
        "DomainName",
        "example.com",
        "Block",
        "2030-12-31T00:00:00Z",
        "",
        None,
    ),
    (
        "DomainName",
        "example.com",
        "Block",
        "2030-12-31T00:00:00.000Z",
        "",
        None,
    ),
    (
        "DomainName",
        "example.com",
        "Block",
        "2030-12-31T00:00:00+02:00",
        "",
        None,
    ),
    ("DomainName", "example.com", "Block", "2030-12-31", "", None),
    ("DomainName", "example.com", "Block", "", "", None),
];

/// With the clock at [`NOW`].
const EXPIRED: &[Case] = &[
    (
        "DomainName",
        "example.com",
        "Block",
        "2025-10-25T00:00:00Z",
        "",
        Some(Code::Expired),
    ),
    (
        "DomainName",
        "example.com",
        "Block",
        "2025-10-25T02:00:00+02:00",
        "",
        Some(Code::Expired),
    ),
    (
        "DomainName",
        "example.com",
        "Block",
        "2025-10-24",
        "",
        Some(Code::Expired),
    ),
    (
        "DomainName",
        "example.com",
        "Block",
        "2025-10-25T00:00:01Z",
        "",
        None,
    ),
    ("DomainName", "example.com", "Block", "2025-10-26", "", None),
];

/// Compiled for device group `Sales`.
const OTHER_GROUP: &[Case] = &[
    (
        "DomainName",
        "example.com",
        "Block",
        "",
        "Finance",
        Some(Code::OtherGroup),
    ),
    (
        "DomainName",
        "example.com",
        "Block",
        "",
        "Finance, HR",
        Some(Code::OtherGroup),
    ),
    ("DomainName", "example.com", "Block", "", "Sales", None),
    ("DomainName", "example.com", "Block", "", "sales", None),
    (
        "DomainName",
        "example.com",
        "Block",
        "",
        "Finance,SALES",
        None,
    ),
    ("DomainName", "example.com", "Block", "", "", None),
];

const PUBLIC_SUFFIX: &[Case] = &[
    (
        "DomainName",
        "com",
        "Block",
        "",
        "",
        Some(Code::PublicSuffix),
    ),
    (
        "DomainName",
        "co.uk",
        "Block",
        "",
        "",
        Some(Code::PublicSuffix),
    ),
    (
        "DomainName",
        "github.io",
        "Block",
        "",
        "",
        Some(Code::PublicSuffix),
    ),
    (
        "DomainName",
        "ZIP",
        "Block",
        "",
        "",
        Some(Code::PublicSuffix),
    ),
    ("DomainName", "example.com", "Block", "", "", None),
    ("DomainName", "example.co.uk", "Block", "", "", None),
    ("DomainName", "someone.github.io", "Block", "", "", None),
    // Only the list's default `*` rule matches an unknown TLD: no warning.
    ("DomainName", "intranet", "Block", "", "", None),
    ("DomainName", "example.notarealtld", "Block", "", "", None),
    // Only DomainName indicators are warned about.
    ("Url", "https://co.uk/a", "Block", "", "", None),
];

/// Several problems in one row: the first check in the documented order
/// decides.
const ORDER_OF_CHECKS: &[Case] = &[
    (
        "FileSha1",
        "*.example.com",
        "BlockAndRemediate",
        "junk",
        "",
        Some(Code::UnsupportedType),
    ),
    (
        "IpAddress",
        "1.2.3.4",
        "BlockAndRemediate",
        "junk",
        "",
        Some(Code::IpIndicator),
    ),
    (
        "DomainName",
        "*.example.com",
        "BlockAndRemediate",
        "junk",
        "",
        Some(Code::UnsupportedAction),
    ),
    (
        "DomainName",
        "*.example.com",
        "Block",
        "junk",
        "",
        Some(Code::Wildcard),
    ),
    (
        "DomainName",
        "example.com",
        "Block",
        "junk",
        "Finance",
        Some(Code::BadExpiration),
    ),
    (
        "DomainName",
        "example.com",
        "Block",
        "2020-01-01",
        "Finance",
        Some(Code::Expired),
    ),
    (
        "DomainName",
        "com",
        "Block",
        "",
        "Finance",
        Some(Code::OtherGroup),
    ),
];

fn csv_of(cases: &[&Case]) -> String {
    let mut s = String::from("IndicatorType,IndicatorValue,Action,ExpirationTime,RbacGroups\r\n");
    for (t, v, a, e, g, _) in cases {
        s.push_str(&format!("{t},{v},{a},{e},\"{g}\"\r\n"));
    }
    s
}

fn json_of(cases: &[&Case]) -> String {
    let items: Vec<_> = cases
        .iter()
        .map(|(t, v, a, e, g, _)| {
            let groups: Vec<&str> = g
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .collect();
            serde_json::json!({
                "indicatorType": t, "indicatorValue": v, "action": a,
                "expirationTime": if e.is_empty() { None } else { Some(e) },
                "rbacGroupNames": groups,
            })
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap()
}

fn ingest_with(opts: Options, name: &str, text: &str, format: Format) -> (Vec<Indicator>, Report) {
    let mut ing = Ingester::new(opts);
    ing.read(name, text.as_bytes(), format).unwrap();
    let (v, r) = ing.finish();
    assert!(r.adds_up(), "{name}: {r}");
    assert_eq!(r.file_errors(), 0, "{name}: {:?}", r.diagnostics());
    (v, r)
}

fn run_table(name: &str, opts: Options, table: &[Case]) {
    for case in table {
        let (t, v, a, e, g, want) = case;
        let inputs = [
            ("case.csv", csv_of(&[case]), Format::Csv),
            ("case.json", json_of(&[case]), Format::Json),
        ];
        for (file, text, format) in inputs {
            let (ind, r) = ingest_with(opts.clone(), file, &text, format);
            let what = format!("{name} {file}: {t},{v},{a},{e},{g}");
            assert_eq!(r.rows(), 1, "{what}: {r}");
            let codes: Vec<Code> = r.diagnostics().iter().map(|d| d.code).collect();
            assert_eq!(
                codes,
                want.iter().copied().collect::<Vec<_>>(),
                "{what}: {:?}",
                r.diagnostics()
            );
            let accepted = want.is_none_or(|c| c == Code::PublicSuffix);
            assert_eq!(r.accepted(), u64::from(accepted), "{what}: {r}");
            assert_eq!(ind.len(), usize::from(accepted), "{what}");
            if let Some(c) = want {
                let d = &r.diagnostics()[0];
                assert_eq!(d.line, 2, "{what}: {d}");
                assert!(
                    d.to_string()
                        .starts_with(&format!("{file}:2: {}[{c}]: ", d.level().as_str())),
                    "{d}"
                );
                if d.level() == Level::Error {
                    assert_eq!(r.rejected_by(*c), 1, "{what}: {r}");
                }
            }
        }
    }
}

#[test]
fn ip_rejection() {
    run_table("IP_REJECTION", Options::at(NOW), IP_REJECTION);
}

#[test]
fn reserved_address() {
    run_table("RESERVED_ADDRESS", Options::at(NOW), RESERVED_ADDRESS);
}

#[test]
fn wildcard() {
    run_table("WILDCARD", Options::at(NOW), WILDCARD);
}

#[test]
fn invalid_host() {
    run_table("INVALID_HOST", Options::at(NOW), INVALID_HOST);
}

#[test]
fn unsupported_scheme() {
    run_table("UNSUPPORTED_SCHEME", Options::at(NOW), UNSUPPORTED_SCHEME);
}

#[test]
fn unsupported_action() {
    run_table("UNSUPPORTED_ACTION", Options::at(NOW), UNSUPPORTED_ACTION);
}

#[test]
fn unsupported_type() {
    run_table("UNSUPPORTED_TYPE", Options::at(NOW), UNSUPPORTED_TYPE);
}

#[test]
fn domain_with_path() {
    run_table("DOMAIN_WITH_PATH", Options::at(NOW), DOMAIN_WITH_PATH);
}

#[test]
fn bad_expiration() {
    run_table("BAD_EXPIRATION", Options::at(NOW), BAD_EXPIRATION);
}

#[test]
fn expired() {
    run_table("EXPIRED", Options::at(NOW), EXPIRED);
    // The same rows at an earlier clock are all still valid.
    let earlier = EXPIRED
        .iter()
        .map(|&(t, v, a, e, g, _)| (t, v, a, e, g, None))
        .collect::<Vec<_>>();
    run_table(
        "EXPIRED at 2020",
        Options::at(Timestamp(1_577_836_800)),
        &earlier,
    );
}

#[test]
fn other_group() {
    run_table(
        "OTHER_GROUP",
        Options::at(NOW).device_group("Sales"),
        OTHER_GROUP,
    );
    // Compiling for no particular group is the set of every device: it
    // keeps only the rows with no group; every scoped row is skipped.
    let everyone = OTHER_GROUP
        .iter()
        .map(|&(t, v, a, e, g, _)| {
            let scoped = !g.trim().is_empty();
            (t, v, a, e, g, scoped.then_some(Code::OtherGroup))
        })
        .collect::<Vec<_>>();
    run_table("OTHER_GROUP, no group", Options::at(NOW), &everyone);
}

/// A row for one device group neither reaches the set of every device
/// nor merges away a Block meant for everyone.
#[test]
fn a_scoped_allow_does_not_override_a_global_block() {
    let csv = "IndicatorType,IndicatorValue,Action,RbacGroups\n\
               DomainName,scoped.test,Allowed,Sales\n\
               DomainName,scoped.test,Block,\n";
    let (ind, r) = ingest_with(Options::at(NOW), "g.csv", csv, Format::Csv);
    assert_eq!(ind.len(), 1, "{r}");
    assert_eq!(ind[0].action, indset::Action::Block);
    assert_eq!(r.skipped_by(Code::OtherGroup), 1);
    assert_eq!(
        r.merged(),
        0,
        "nothing merged: the scoped row is not in this set"
    );
    let note = &r.diagnostics()[0];
    assert_eq!((note.line, note.code), (2, Code::OtherGroup));
    assert!(note.message.contains("--device-group"), "{}", note.message);
    // The Sales set has the Allow, which wins there.
    let (ind, r) = ingest_with(
        Options::at(NOW).device_group("sales"),
        "g.csv",
        csv,
        Format::Csv,
    );
    assert_eq!(ind.len(), 1, "{r}");
    assert_eq!(ind[0].action, indset::Action::Allow);
    assert_eq!(r.merged_by(Code::Conflict), 1);
}

#[test]
fn public_suffix() {
    run_table("PUBLIC_SUFFIX", Options::at(NOW), PUBLIC_SUFFIX);
}

#[test]
fn order_of_checks() {
    run_table(
        "ORDER_OF_CHECKS",
        Options::at(NOW).device_group("Sales"),
        ORDER_OF_CHECKS,
    );
}

#[test]
fn too_long() {
    let long = format!("https://example.com/{}", "a".repeat(3000));
    let fine = format!("https://example.com/{}", "a".repeat(1000));
    let text = format!("block {long}\nblock {fine}\n");
    let (ind, r) = ingest_with(Options::at(NOW), "long.txt", &text, Format::Text);
    assert_eq!(r.rejected_by(Code::TooLong), 1, "{r}");
    assert_eq!(r.diagnostics()[0].line, 1);
    assert_eq!(ind.len(), 1);
    assert_eq!(ind[0].path.len(), 1001);
}

#[test]
fn malformed_row_in_csv() {
    let text =
        "IndicatorType,IndicatorValue,Action\nDomainName,a.example\nDomainName,b.example,Block\n";
    let (ind, r) = ingest_with(Options::at(NOW), "short.csv", text, Format::Csv);
    assert_eq!(r.rejected_by(Code::MalformedRow), 1, "{r}");
    assert_eq!(r.diagnostics()[0].line, 2);
    assert_eq!(ind.len(), 1);
    assert_eq!(ind[0].host, "b.example");
}

#[test]
fn messages_say_how_to_fix() {
    let table: &[(Case, &[&str])] = &[
        (
            (
                "Url",
                "https://example.com/a",
                "BlockAndRemediate",
                "",
                "",
                None,
            ),
            &[
                "network indicators do not support BlockAndRemediate",
                "Block, Warn, Audit or Allowed",
            ],
        ),
        (
            ("DomainName", "*.example.com", "Block", "", "", None),
            &["`example.com` already covers its subdomains"],
        ),
        (
            ("IpAddress", "1.2.3.4", "Block", "", "", None),
            &["not supported on mobile", "remove the row"],
        ),
        (
            ("FileSha256", "abc", "Block", "", "", None),
            &["not a network indicator", "Url and DomainName"],
        ),
        (
            ("DomainName", "x.example", "Block", "soon", "", None),
            &["2025-12-31T00:00:00Z", "`soon`"],
        ),
        (
            ("DomainName", "x.example", "Block", "2020-01-01", "", None),
            &["expired at 2020-01-01T00:00:00Z"],
        ),
        (
            ("DomainName", "co.uk", "Block", "", "", None),
            &["public suffix", "registrable domain"],
        ),
    ];
    for (case, needles) in table {
        let (_, r) = ingest_with(Options::at(NOW), "m.csv", &csv_of(&[case]), Format::Csv);
        let d = &r.diagnostics()[0];
        for n in *needles {
            assert!(d.message.contains(n), "{d} lacks {n:?}");
        }
    }
}

#[test]
fn duplicates_merge_the_later_row() {
    // The scheme, case and trailing dot are not part of the key.
    let text = "block https://example.com/a\nblock http://EXAMPLE.com./a\nblock example.com/a\nexample.com\n";
    let (ind, r) = ingest_with(Options::at(NOW), "d.txt", text, Format::Text);
    assert_eq!(
        (r.rows(), r.accepted(), r.merged_by(Code::Duplicate)),
        (4, 2, 2),
        "{r}"
    );
    let lines: Vec<u64> = r.diagnostics().iter().map(|d| d.line).collect();
    assert_eq!(lines, [2, 3]);
    assert!(
        r.diagnostics()[0].message.contains("already at d.txt:1"),
        "{:?}",
        r.diagnostics()
    );
    let url = ind.iter().find(|i| i.kind == Kind::Url).unwrap();
    assert_eq!(url.source.line, 1, "the first row stays");
}

#[test]
fn a_domain_and_a_url_on_the_same_host_are_different_keys() {
    let (ind, r) = ingest_with(
        Options::at(NOW),
        "k.txt",
        "example.com\nexample.com/\n",
        Format::Text,
    );
    assert_eq!((r.accepted(), r.merged()), (2, 0), "{r}");
    assert_eq!(ind[0].kind, Kind::DomainName);
    assert_eq!(ind[1].kind, Kind::Url);
}

#[test]
fn conflicts_keep_allow_then_warn_then_block_then_audit() {
    let actions = [Action::Allow, Action::Warn, Action::Block, Action::Audit];
    for first in actions {
        for second in actions.into_iter().filter(|a| *a != first) {
            let text = format!("{first} example.com\n{second} example.com\n");
            let (ind, r) = ingest_with(Options::at(NOW), "c.txt", &text, Format::Text);
            let winner = first.min(second);
            assert_eq!(ind.len(), 1);
            assert_eq!(ind[0].action, winner, "{first} then {second}");
            assert_eq!((r.accepted(), r.merged_by(Code::Conflict)), (1, 1), "{r}");
            let d = &r.diagnostics()[0];
            let (loser_line, winner_line) = if winner == first { (2, 1) } else { (1, 2) };
            assert_eq!(d.line, loser_line, "{d}");
            assert!(d.message.contains(&format!("c.txt:{winner_line}")), "{d}");
            assert_eq!(ind[0].source.line, winner_line);
        }
    }
}

#[test]
fn duplicates_and_conflicts_span_inputs() {
    let mut ing = Ingester::new(Options::at(NOW));
    ing.read(
        "a.txt",
        "block example.com\nwarn x.example\n".as_bytes(),
        Format::Text,
    )
    .unwrap();
    ing.read(
        "b.txt",
        "block example.com\nallow x.example\n".as_bytes(),
        Format::Text,
    )
    .unwrap();
    let (ind, r) = ing.finish();
    assert_eq!(
        r.to_string(),
        "4 rows: 2 accepted, 0 rejected, 0 skipped, 2 merged (1 duplicate, 1 conflict)"
    );
    let shown: Vec<String> = r.diagnostics().iter().map(ToString::to_string).collect();
    assert!(
        shown[0].starts_with("b.txt:1: warning[duplicate]: "),
        "{shown:?}"
    );
    assert!(shown[0].contains("a.txt:1"), "{shown:?}");
    assert!(
        shown[1].starts_with("a.txt:2: warning[conflict]: "),
        "{shown:?}"
    );
    assert!(shown[1].contains("b.txt:2"), "{shown:?}");
    assert_eq!(
        ind.iter().find(|i| i.host == "x.example").unwrap().action,
        Action::Allow
    );
}

#[test]
fn expired_and_other_group_rows_never_conflict() {
    // A skipped row is not in the set, so it cannot win or lose a merge.
    let text = "IndicatorType,IndicatorValue,Action,ExpirationTime\n\
                DomainName,example.com,Allowed,2020-01-01\n\
                DomainName,example.com,Block,\n";
    let (ind, r) = ingest_with(Options::at(NOW), "s.csv", text, Format::Csv);
    assert_eq!(
        (r.accepted(), r.skipped_by(Code::Expired), r.merged()),
        (1, 1, 0),
        "{r}"
    );
    assert_eq!(ind[0].action, Action::Block);
}

#[test]
fn text_format_actions_and_types() {
    let table: &[(&str, Option<(Kind, Action)>)] = &[
        ("example.com", Some((Kind::DomainName, Action::Block))),
        ("allow example.com", Some((Kind::DomainName, Action::Allow))),
        ("Warn example.com", Some((Kind::DomainName, Action::Warn))),
        ("audit https://x.test/a", Some((Kind::Url, Action::Audit))),
        ("example.com/a", Some((Kind::Url, Action::Block))),
        ("https://example.com", Some((Kind::Url, Action::Block))),
        (
            "  block   example.com   # why",
            Some((Kind::DomainName, Action::Block)),
        ),
        ("deny example.com", None),
        ("block a.example b.example", None),
    ];
    for (line, want) in table {
        let (ind, r) = ingest_with(Options::at(NOW), "t.txt", line, Format::Text);
        assert_eq!(r.rows(), 1, "{line}");
        match want {
            Some((kind, action)) => {
                assert_eq!(ind.len(), 1, "{line}: {:?}", r.diagnostics());
                assert_eq!((ind[0].kind, ind[0].action), (*kind, *action), "{line}");
            }
            None => assert_eq!(r.rejected(), 1, "{line}"),
        }
    }
}

#[test]
fn hosts_format_rows() {
    let text = "# comment\n127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\n\
                0.0.0.0 a.example b.example # two\n0.0.0.0 0.0.0.0\nfe80::1%lo0 localhost\n\
                a.example\n0.0.0.0\n";
    let (ind, r) = ingest_with(Options::at(NOW), "hosts", text, Format::Auto);
    // Boilerplate names are not rows: 2 names + 2 malformed lines.
    assert_eq!(r.rows(), 4, "{r}");
    assert_eq!(r.rejected_by(Code::MalformedRow), 2, "{r}");
    let lines: Vec<u64> = r.diagnostics().iter().map(|d| d.line).collect();
    assert_eq!(lines, [7, 8]);
    let hosts: Vec<&str> = ind.iter().map(|i| i.host.as_str()).collect();
    assert_eq!(hosts, ["a.example", "b.example"]);
    assert!(
        ind.iter()
            .all(|i| i.action == Action::Block && i.kind == Kind::DomainName)
    );
    assert!(ind.iter().all(|i| i.source.line == 4));
}

#[test]
fn metadata_is_kept() {
    let text = "IndicatorType,IndicatorValue,ExpirationTime,Action,Severity,Title,Description,\
                RecommendedActions,RbacGroups,Category,MitreTechniques,GenerateAlert\n\
                Url,https://x.test/a,2030-01-01T00:00:00Z,Warn,High,\"Bad \"\"thing\"\"\",Desc,Do it,\
                \"Sales, Finance\",Malware,T1189,True\n";
    let (ind, _) = ingest_with(
        Options::at(NOW).device_group("Finance"),
        "m.csv",
        text,
        Format::Csv,
    );
    let m = &ind[0].meta;
    assert_eq!(m.title.as_deref(), Some("Bad \"thing\""));
    assert_eq!(m.severity, Some(indset::Severity::High));
    assert_eq!(m.expiration, Some(Timestamp(1_893_456_000)));
    assert_eq!(m.groups, ["Sales", "Finance"]);
    assert_eq!(m.generate_alert, Some(true));
    assert_eq!(m.category.as_deref(), Some("Malware"));
    assert_eq!(m.description.as_deref(), Some("Desc"));
    assert_eq!(ind[0].id(), "m.csv:2", "no id column: the file and line");

    let json = r#"{"@odata.context": "x", "value": [
      {"id": 17, "IndicatorValue": "x.test", "indicatorType": "DomainName", "action": "Audit",
       "title": "T", "severity": "low", "generateAlert": false, "rbacGroupNames": []}
    ]}"#;
    let (ind, _) = ingest_with(Options::at(NOW), "m.json", json, Format::Auto);
    assert_eq!(ind[0].id(), "17");
    assert_eq!(ind[0].meta.severity, Some(indset::Severity::Low));
    assert_eq!(ind[0].meta.generate_alert, Some(false));
    assert_eq!(ind[0].source.line, 2);
}

/// A `Severity` or `GenerateAlert` the portal does not define is left out
/// with an `ignored-value` warning naming it; the indicator is applied.
/// Known values in any case and white space, and empty ones, are read
/// without a word.
#[test]
fn unknown_severities_and_alert_flags_are_reported_and_left_out() {
    let csv = "IndicatorType,IndicatorValue,Action,Severity,GenerateAlert\n\
               DomainName,a.test,Block,Critical,\n\
               DomainName,b.test,Block, high ,yes\n\
               DomainName,c.test,Block,,TRUE\n\
               DomainName,d.test,Block,Sev3,maybe\n\
               DomainName,e.test,Block,,\n";
    let (ind, r) = ingest_with(Options::at(NOW), "s.csv", csv, Format::Csv);
    assert_eq!(
        (r.rows(), r.accepted(), r.ignored_values()),
        (5, 5, 3),
        "{r}"
    );
    let lines: Vec<(u64, Code, String)> = r
        .diagnostics()
        .iter()
        .map(|d| (d.line, d.code, d.message.clone()))
        .collect();
    assert_eq!(
        lines.iter().map(|l| (l.0, l.1)).collect::<Vec<_>>(),
        [
            (2, Code::IgnoredValue),
            (3, Code::IgnoredValue),
            (5, Code::IgnoredValue)
        ]
    );
    assert!(lines[0].2.contains("Severity `Critical`"), "{}", lines[0].2);
    assert!(!lines[0].2.contains("GenerateAlert"), "{}", lines[0].2);
    assert!(lines[1].2.contains("GenerateAlert `yes`"), "{}", lines[1].2);
    assert!(
        lines[2].2.contains("Severity `Sev3`") && lines[2].2.contains("GenerateAlert `maybe`"),
        "{}",
        lines[2].2
    );
    let d = &r.diagnostics()[0];
    assert!(
        d.to_string()
            .starts_with("s.csv:2: warning[ignored-value]: `a.test` is applied without its"),
        "{d}"
    );
    let meta: Vec<_> = ind
        .iter()
        .map(|i| (i.host.as_str(), i.meta.severity, i.meta.generate_alert))
        .collect();
    assert_eq!(
        meta,
        [
            ("a.test", None, None),
            ("b.test", Some(indset::Severity::High), None),
            ("c.test", None, Some(true)),
            ("d.test", None, None),
            ("e.test", None, None),
        ]
    );

    // JSON: booleans and strings alike.
    let json = r#"[
      {"indicatorValue": "a.test", "indicatorType": "DomainName", "action": "Block",
       "severity": "Critical", "generateAlert": true},
      {"indicatorValue": "b.test", "indicatorType": "DomainName", "action": "Block",
       "generateAlert": "False"},
      {"indicatorValue": "c.test", "indicatorType": "DomainName", "action": "Block",
       "generateAlert": "nope"}
    ]"#;
    let (ind, r) = ingest_with(Options::at(NOW), "s.json", json, Format::Json);
    let codes: Vec<(u64, Code)> = r.diagnostics().iter().map(|d| (d.line, d.code)).collect();
    assert_eq!(
        codes,
        [(2, Code::IgnoredValue), (6, Code::IgnoredValue)],
        "{r}"
    );
    let alerts: Vec<_> = ind.iter().map(|i| i.meta.generate_alert).collect();
    assert_eq!(alerts, [Some(true), Some(false), None]);
}

/// The `ignored-value` warning is for rows that are applied: a duplicate
/// or the loser of a conflict only gets its merge warning, the winner of
/// a conflict gets both.
#[test]
fn ignored_values_are_reported_for_applied_rows_only() {
    let csv = "IndicatorType,IndicatorValue,Action,Severity\n\
               DomainName,a.test,Block,High\n\
               DomainName,a.test,Block,Critical\n\
               DomainName,a.test,Audit,Critical\n\
               DomainName,a.test,Allow,Critical\n";
    let (ind, r) = ingest_with(Options::at(NOW), "m.csv", csv, Format::Csv);
    let codes: Vec<(u64, Code)> = r.diagnostics().iter().map(|d| (d.line, d.code)).collect();
    assert_eq!(
        codes,
        [
            (3, Code::Duplicate),
            (4, Code::Conflict),
            (2, Code::Conflict),
            (5, Code::IgnoredValue),
        ],
        "{:?}",
        r.diagnostics()
    );
    assert_eq!((r.accepted(), r.merged(), r.ignored_values()), (1, 3, 1));
    assert_eq!(
        (ind[0].action, ind[0].meta.severity, ind[0].source.line),
        (Action::Allow, None, 5)
    );
}
