//! The path and query rules as `docs/matching.md` states them: a query is
//! a plain prefix, and the spellings that only some servers treat as one
//! path stay distinct paths.

use indset::{Action, Decision, Kind, Mode};
use indset_test_support::fixtures::{NOW, compile, ind};

/// `(query, decision)` against Blocks on `h8.test/p?x=1` and `h9.test/bad`.
const SPELLINGS: &[(&str, Decision)] = &[
    // A query matches as a plain prefix, not on a parameter boundary.
    ("http://h8.test/p?x=1", Decision::Block),
    ("http://h8.test/p?x=1&y=2", Decision::Block),
    ("http://h8.test/p?x=12", Decision::Block),
    ("http://h8.test/p?y=2&x=1", Decision::None),
    ("http://h8.test/p", Decision::None),
    // Spellings every server resolves alike are one path.
    ("http://h9.test/%62ad", Decision::Block),
    ("http://h9.test/./bad", Decision::Block),
    ("http://h9.test/x/../bad", Decision::Block),
    ("http://h9.test//bad", Decision::Block),
    ("http://h9.test/bad/x", Decision::Block),
    // Spellings only some servers treat as `/bad` are other paths.
    ("http://h9.test/BAD", Decision::None),
    ("http://h9.test/bad;x", Decision::None),
    ("http://h9.test/bad.", Decision::None),
    ("http://h9.test/bad%20", Decision::None),
    ("http://h9.test/badge", Decision::None),
];

#[test]
fn paths_and_queries_match_as_documented() {
    let set = compile(&[
        ind(Kind::Url, "h8.test/p?x=1", Action::Block),
        ind(Kind::Url, "h9.test/bad", Action::Block),
    ]);
    for &(q, want) in SPELLINGS {
        assert_eq!(set.check_at(q, Mode::Full, NOW).decision, want, "{q}");
    }
}
