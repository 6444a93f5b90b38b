//! The compiled set gives the reference matcher's verdict on random
//! indicator sets and on queries derived from them, in both modes.

use std::collections::HashSet;

use indset::{Action, Indicator, Kind, Mode, Timestamp};
use indset_test_support::fixtures::{NOW, both, compile, describe, try_ind};
use proptest::prelude::*;
use proptest::sample::select;

const LABELS: &[&str] = &[
    "a",
    "b",
    "ex",
    "example",
    "ample",
    "evil",
    "com",
    "co",
    "uk",
    "zip",
    "xn--bcher-kva",
    "bücher",
    "ÉCOLE",
    "x-y",
    "9",
];
const SEGMENTS: &[&str] = &["a", "b", "block", "blockade", "dir", "x.js", "%7e", "A"];
const QUERIES: &[&str] = &["x=1", "x=10", "q", "", "a=b&c=d"];
const ACTIONS: &[Action] = &[Action::Allow, Action::Warn, Action::Block, Action::Audit];
const EXPIRATIONS: &[Option<i64>] = &[
    None,
    None,
    Some(NOW.0 - 10),
    Some(NOW.0),
    Some(NOW.0 + 10),
    Some(NOW.0 + 30),
];
/// The instants the answers are compared at: before, at and after each
/// expiration above.
const NOWS: &[i64] = &[-20, -10, -1, 0, 5, 10, 11, 29, 30, 31];

/// One random indicator as a user writes it.
fn indicator() -> impl Strategy<Value = (Kind, String, Action, Option<i64>)> {
    let host = prop::collection::vec(select(LABELS), 1..4).prop_map(|l| l.join("."));
    let path = (
        prop::collection::vec(select(SEGMENTS), 0..3),
        any::<bool>(),
        prop::option::weighted(0.3, select(QUERIES)),
    )
        .prop_map(|(segs, slash, query)| {
            let mut p = format!("/{}", segs.join("/"));
            if slash && !p.ends_with('/') {
                p.push('/');
            }
            if let Some(q) = query {
                p.push('?');
                p.push_str(q);
            }
            p
        });
    (
        any::<bool>(),
        host,
        path,
        select(ACTIONS),
        select(EXPIRATIONS),
    )
        .prop_map(|(is_url, host, path, action, exp)| {
            if is_url {
                (Kind::Url, format!("http://{host}{path}"), action, exp)
            } else {
                (Kind::DomainName, host, action, exp)
            }
        })
}

/// Canonical indicators with unique keys (as ingestion hands them over).
fn canonical(raw: &[(Kind, String, Action, Option<i64>)]) -> Vec<Indicator> {
    let mut seen = HashSet::new();
    raw.iter()
        .enumerate()
        .filter_map(|(line, (kind, value, action, exp))| {
            let mut i = try_ind(*kind, value, *action, line as u64 + 1)?;
            i.meta.expiration = exp.map(Timestamp);
            seen.insert((i.kind, i.host.clone(), i.path.clone()))
                .then_some(i)
        })
        .collect()
}

/// How to derive a query from an indicator (or from nothing).
#[derive(Clone, Debug)]
struct Recipe {
    base: usize,
    host: u8,
    case_mask: u32,
    dots: u8,
    port: bool,
    userinfo: bool,
    scheme: u8,
    path: u8,
    percent: Option<usize>,
    backslash: bool,
    trailing_q: bool,
    fragment: bool,
}

fn recipe() -> impl Strategy<Value = Recipe> {
    (
        (
            any::<usize>(),
            0..6u8,
            any::<u32>(),
            0..5u8,
            any::<bool>(),
            any::<bool>(),
        ),
        (0..4u8, 0..9u8, prop::option::weighted(0.2, any::<usize>())),
        (
            prop::bool::weighted(0.15),
            prop::bool::weighted(0.15),
            prop::bool::weighted(0.1),
        ),
    )
        .prop_map(
            |(
                (base, host, case_mask, dots, port, userinfo),
                (scheme, path, percent),
                (backslash, trailing_q, fragment),
            )| Recipe {
                base,
                host,
                case_mask,
                dots,
                port,
                userinfo,
                scheme,
                path,
                percent,
                backslash,
                trailing_q,
                fragment,
            },
        )
}

fn derive(inds: &[Indicator], r: &Recipe) -> String {
    let (base_host, base_path) = match inds.get(r.base % (inds.len() + 1)) {
        Some(i) => (i.host.clone(), i.path.clone()),
        None => ("example.com".to_string(), "/".to_string()),
    };
    let mut host = match r.host {
        0 => format!("www.{base_host}"),
        1 => format!("evil{base_host}"),
        2 => base_host
            .split_once('.')
            .map_or(base_host.clone(), |(_, p)| p.to_string()),
        3 => format!("a.b.{base_host}"),
        _ => base_host,
    };
    host = host
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if r.case_mask >> (i % 32) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    match r.dots {
        1 => host.push('.'),
        2 => host.insert(0, '.'),
        3 => host = host.replacen('.', "..", 1),
        _ => {}
    }
    let mut path = if base_path.is_empty() {
        "/".to_string()
    } else {
        base_path
    };
    match r.path {
        0 => path.push_str("/x"),
        1 => path.push_str("ade"),
        2 => path.push_str("?q"),
        3 => path.push('/'),
        4 => {
            let mut cut = (path.len() / 2).max(1);
            while !path.is_char_boundary(cut) {
                cut -= 1;
            }
            path.truncate(cut);
        }
        5 => path = "/".into(),
        6 => path.push_str("&more=1"),
        _ => {}
    }
    if let Some(at) = r.percent {
        let bytes: Vec<(usize, char)> = path
            .char_indices()
            .filter(|(_, c)| c.is_ascii_alphanumeric())
            .collect();
        if let Some(&(i, c)) = bytes.get(at % bytes.len().max(1)) {
            path.replace_range(i..i + 1, &format!("%{:02X}", c as u8));
        }
    }
    if r.backslash {
        path = path.replace('/', "\\");
    }
    if r.trailing_q {
        path.push('?');
    }
    if r.fragment {
        path.push_str("#frag");
    }
    let scheme = ["http://", "https://", "HTTPS://", ""][r.scheme as usize % 4];
    let user = if r.userinfo { "user:pw@" } else { "" };
    let port = if r.port { ":8443" } else { "" };
    format!("{scheme}{user}{host}{port}{path}")
}

/// The domain-mode query for the same recipe: the host (with a port), or
/// the whole URL, which domain mode reduces to its host.
fn derive_host(url: &str, r: &Recipe) -> String {
    if r.trailing_q {
        return url.to_string();
    }
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    rest[..end].to_string()
}

fn check_all(inds: &[Indicator], queries: &[String]) -> Result<(), TestCaseError> {
    check_at(inds, queries, &[NOW])
}

fn check_at(
    inds: &[Indicator],
    queries: &[String],
    nows: &[Timestamp],
) -> Result<(), TestCaseError> {
    let set = compile(inds);
    for q in queries {
        for mode in [Mode::Full, Mode::Domain] {
            for &now in nows {
                let (got, want) = both(&set, inds, q, mode, now);
                let listed: Vec<String> = inds
                    .iter()
                    .map(|i| format!("{} {:?}", describe(i), i.meta.expiration))
                    .collect();
                prop_assert_eq!(
                    got,
                    want,
                    "query {:?} ({:?}) at {:?} over {:?}",
                    q,
                    mode,
                    now,
                    listed
                );
            }
        }
    }
    Ok(())
}

/// Every valid indicator as written, keys repeated (before any merge).
fn as_written(raw: &[(Kind, String, Action, Option<i64>)]) -> Vec<Indicator> {
    raw.iter()
        .enumerate()
        .filter_map(|(line, (kind, value, action, exp))| {
            let mut i = try_ind(*kind, value, *action, line as u64 + 1)?;
            i.meta.expiration = exp.map(Timestamp);
            Some(i)
        })
        .collect()
}

/// Indicators drawn from a few values, so that keys repeat with other
/// actions and expirations.
fn repeated_indicator() -> impl Strategy<Value = (Kind, String, Action, Option<i64>)> {
    let value = select(
        &[
            (Kind::DomainName, "example.com"),
            (Kind::DomainName, "a.example.com"),
            (Kind::DomainName, "com"),
            (Kind::Url, "http://example.com/"),
            (Kind::Url, "http://a.example.com/block"),
            (Kind::Url, "http://a.example.com/block/x"),
        ][..],
    );
    (value, select(ACTIONS), select(EXPIRATIONS))
        .prop_map(|((kind, v), action, exp)| (kind, v.to_string(), action, exp))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8_000))]

    #[test]
    fn derived_queries_agree(
        raw in prop::collection::vec(indicator(), 1..8),
        recipes in prop::collection::vec(recipe(), 1..6),
    ) {
        let inds = canonical(&raw);
        let mut queries = Vec::new();
        for r in &recipes {
            let url = derive(&inds, r);
            queries.push(derive_host(&url, r));
            queries.push(url);
        }
        check_all(&inds, &queries)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn free_form_queries_agree(
        raw in prop::collection::vec(indicator(), 1..6),
        queries in prop::collection::vec("[a-zA-Z0-9./:?@%#\\\\ _-]{0,40}", 1..6),
    ) {
        let inds = canonical(&raw);
        check_all(&inds, &queries)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    /// A set built from a list whose keys repeat, with other actions and
    /// expirations, answers at every instant as the whole list does: a
    /// merge never drops a row that decides once the rows before it
    /// expire.
    #[test]
    fn repeated_keys_agree_at_every_instant(
        raw in prop::collection::vec(repeated_indicator(), 1..10),
        recipes in prop::collection::vec(recipe(), 1..4),
    ) {
        let inds = as_written(&raw);
        let mut queries = Vec::new();
        for r in &recipes {
            let url = derive(&inds, r);
            queries.push(derive_host(&url, r));
            queries.push(url);
        }
        let nows: Vec<Timestamp> = NOWS.iter().map(|d| Timestamp(NOW.0 + d)).collect();
        check_at(&inds, &queries, &nows)?;
    }
}
