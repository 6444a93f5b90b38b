//! The `text` format: one indicator a line, `[action] value`.
//!
//! - Blank lines and lines whose first non-blank character is `#` are not
//!   rows; a `#` after white space starts a trailing comment (a `#` inside
//!   a URL is its fragment).
//! - One word: the value, action Block. Two words: action, value. More: a
//!   `malformed-row`. An action word alone (`allow`) is a `malformed-row`,
//!   not the host `allow`.
//! - A comma before the first `/` (where a host is; a URL's path may hold
//!   commas) makes a `malformed-row` with a hint: such a line is a CSV row,
//!   which read as a host would become a junk Block indicator.
//! - A host holding `{ } " ; ' < > |` or a backquote is a `malformed-row`
//!   with a hint (JSON, a `;`-separated CSV row, markup): no host name has
//!   them.
//! - The type is `Url` when the value starts with a scheme (`x://`) or
//!   contains a `/`, else `DomainName`.
//! - Adblock filter syntax is refused as `malformed-row` (see the module
//!   docs of [`ingest`](super)).

use std::borrow::Cow;
use std::io::{self, BufRead};

use super::lines::Lines;
use super::sink::Sink;
use super::validate::{RawRow, shown};
use crate::indicator::Action;

pub(crate) fn read<R: BufRead>(input: &mut R, sink: &mut Sink<'_>) -> io::Result<()> {
    let mut lines = Lines::new(input);
    while let Some((no, line)) = lines.next_line()? {
        if line.is_hash_comment() {
            continue;
        }
        let Some(text) = sink.text(no, line) else {
            continue;
        };
        let text = strip_comment(text).trim();
        if text.is_empty() {
            continue;
        }
        if let Some(message) = adblock(text) {
            sink.malformed(no, message);
            continue;
        }
        if let Some(message) = csv_row(text) {
            sink.malformed(no, message);
            continue;
        }
        let mut words = text.split_whitespace();
        let (action, value) = match (words.next(), words.next(), words.next()) {
            (Some(a), None, _) if Action::parse(a.trim_matches('.')).is_some() => {
                sink.malformed(
                    no,
                    format!(
                        "`{}` is an action word with no value: write `{} example.com`, \
                         one indicator a line",
                        shown(a),
                        a.to_ascii_lowercase()
                    ),
                );
                continue;
            }
            (Some(v), None, _) => ("Block", v),
            (Some(a), Some(v), None) => {
                if super::hosts::is_address(a) {
                    sink.malformed(
                        no,
                        format!(
                            "`{}` is a hosts-file line, not `[action] value`: read the \
                             file with --format hosts",
                            shown(text)
                        ),
                    );
                    continue;
                }
                (a, v)
            }
            _ => {
                sink.malformed(
                    no,
                    format!(
                        "`{}` has more than two words: write one indicator a line, \
                         `[action] value`",
                        shown(text)
                    ),
                );
                continue;
            }
        };
        if let Some(message) = not_a_host(value) {
            sink.malformed(no, message);
            continue;
        }
        // A URL has a `/`, in its `://` or its path; a host has none.
        let kind = if value.contains('/') {
            "Url"
        } else {
            "DomainName"
        };
        sink.row(RawRow {
            line: no,
            kind: Cow::Borrowed(kind),
            value: value.into(),
            action: action_name(action),
            ..RawRow::default()
        });
    }
    Ok(())
}

/// The action word as written, without an allocation when it is spelt
/// like one of the usual names.
fn action_name(word: &str) -> Cow<'static, str> {
    const USUAL: &[&str] = &[
        "Block", "block", "Allow", "allow", "Allowed", "allowed", "Warn", "warn", "Audit", "audit",
        "Alert", "alert",
    ];
    match USUAL.iter().find(|&&u| u == word) {
        Some(u) => Cow::Borrowed(u),
        None => Cow::Owned(word.to_string()),
    }
}

/// The message for a line with a comma where its host would be: a CSV
/// row (a URL's path and query may hold commas; a host never does).
fn csv_row(s: &str) -> Option<String> {
    let host_part = s.split('/').next().unwrap_or(s);
    if !host_part.contains(',') {
        return None;
    }
    Some(format!(
        "`{}` looks like a CSV row, not `[action] value`: save the file as .csv \
         or use --format csv",
        shown(s)
    ))
}

/// The message for a value whose host holds a byte no host name has and
/// that another format uses: a `;`-separated CSV row, JSON, markup. Read
/// as a host it would become a junk Block indicator.
fn not_a_host(value: &str) -> Option<String> {
    // Byte by byte, in one pass over the host (after the first `://`, up
    // to a `/`, `?` or `#`): every byte looked for is ASCII, which no
    // other character's UTF-8 bytes are. Searching each character in a
    // string of them, after `split_once("://")` and `split`, took about
    // 940 instructions a line of the suite's input (a tenth of the main
    // thread's reading of the 10M input); this, about 270.
    let b = value.as_bytes();
    let start = memchr::memchr_iter(b':', b)
        .find(|&i| b[i + 1..].starts_with(b"//"))
        .map_or(0, |i| i + 3);
    let bad = b[start..]
        .iter()
        .take_while(|&&c| !matches!(c, b'/' | b'?' | b'#'))
        .copied()
        .find(|c| {
            matches!(
                c,
                b'{' | b'}' | b'"' | b';' | b'\'' | b'<' | b'>' | b'|' | b'`'
            )
        })?;
    let hint = match bad {
        b';' => "looks like a CSV row separated by `;`: save it as comma-separated .csv",
        b'{' | b'}' | b'"' => "looks like JSON: save the file as .json or use --format json",
        _ => "is not a host name or URL: write one indicator a line, `[action] value`",
    };
    Some(format!("`{}` {hint}", shown(value)))
}

/// The line before a `#` that follows white space.
fn strip_comment(s: &str) -> &str {
    let b = s.as_bytes();
    match memchr::memchr_iter(b'#', b).find(|&i| i > 0 && b[i - 1].is_ascii_whitespace()) {
        Some(i) => &s[..i],
        None => s,
    }
}

/// The message for a line in adblock filter syntax.
fn adblock(s: &str) -> Option<String> {
    let what = if s.starts_with('!') {
        "an adblock comment"
    } else if s.starts_with("@@") {
        "an adblock exception rule"
    } else if s.starts_with('|') {
        "an adblock filter rule"
    } else if s
        .as_bytes()
        .get(..8)
        .is_some_and(|h| h.eq_ignore_ascii_case(b"[adblock"))
    {
        "an adblock header"
    } else {
        return None;
    };
    Some(format!(
        "`{}` is {what}, not the text format: write comments after `#` and rules \
         as a bare host or URL (`||example.com^` is `example.com`, `@@||x.test^` \
         is `allow x.test`)",
        shown(s)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments() {
        assert_eq!(strip_comment("a.test # why"), "a.test ");
        assert_eq!(
            strip_comment("https://a.test/#frag"),
            "https://a.test/#frag"
        );
    }

    #[test]
    fn a_host_with_a_byte_of_another_format_is_named() {
        for bad in ['{', '}', '"', ';', '\'', '<', '>', '|', '`'] {
            let message = not_a_host(&format!("https://a{bad}b.test/x")).expect("refused");
            let want = match bad {
                ';' => "looks like a CSV row",
                '{' | '}' | '"' => "looks like JSON",
                _ => "is not a host name or URL",
            };
            assert!(message.contains(want), "{bad}: {message}");
            // In the path, query or fragment, the byte is the URL's own.
            for after in ["/", "?", "#"] {
                assert_eq!(not_a_host(&format!("a.test{after}{bad}")), None, "{bad}");
            }
        }
        // Characters beyond ASCII are not among them.
        assert_eq!(not_a_host("bücher.example"), None);
        assert_eq!(not_a_host("пример.рф/путь"), None);
        assert_eq!(not_a_host("a.test"), None);
    }

    proptest::proptest! {
        /// The byte scan finds what a search of each character of the
        /// host (after the first `://`, up to `/`, `?` or `#`) finds.
        #[test]
        fn the_byte_scan_finds_what_the_character_search_finds(
            value in "[a:/?#{};'<>|`\"é.ü-]{0,24}",
        ) {
            let rest = value.split_once("://").map_or(value.as_str(), |(_, rest)| rest);
            let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
            let first = host.chars().find(|c| "{}\";'<>|`".contains(*c));
            let message = not_a_host(&value);
            proptest::prop_assert_eq!(first.is_some(), message.is_some());
            if let (Some(c), Some(m)) = (first, message) {
                let json = matches!(c, '{' | '}' | '"');
                proptest::prop_assert_eq!(json, m.contains("looks like JSON"));
                proptest::prop_assert_eq!(c == ';', m.contains("separated by `;`"));
            }
        }
    }
}
