//! The `hosts` format: `<address> <name> [<name>...]`, every name a Block
//! `DomainName` row. The address is any IPv4 or IPv6 address (with an
//! optional `%zone`); which one does not matter, as blocklists use
//! `0.0.0.0`, `127.0.0.1` and `::1` alike. Boilerplate names are not rows.

use std::borrow::Cow;
use std::io::{self, BufRead};
use std::net::IpAddr;

use super::lines::Lines;
use super::sink::Sink;
use super::validate::{RawRow, shown};

pub(crate) fn read<R: BufRead>(input: &mut R, sink: &mut Sink<'_>) -> io::Result<()> {
    let mut lines = Lines::new(input);
    while let Some((no, line)) = lines.next_line()? {
        if line.is_hash_comment() {
            continue;
        }
        let Some(text) = sink.text(no, line) else {
            continue;
        };
        let text = text.split_once('#').map_or(text, |(before, _)| before);
        let mut words = text.split_whitespace();
        let Some(address) = words.next() else {
            continue;
        };
        if !is_address(address) {
            sink.malformed(
                no,
                format!(
                    "`{}` does not start with an IP address: write `0.0.0.0 name`, or \
                     read a list of bare names with --format text",
                    shown(text)
                ),
            );
            continue;
        }
        let mut names = words.peekable();
        if names.peek().is_none() {
            sink.malformed(
                no,
                format!(
                    "`{}` has an address but no name: add the host name",
                    shown(text)
                ),
            );
            continue;
        }
        for (nth, name) in names.filter(|n| !is_boilerplate(n)).enumerate() {
            if name.contains(',') {
                sink.malformed(
                    no,
                    format!(
                        "`{}` has a comma, which no host name has: separate the names \
                         with spaces, or read a CSV file with --format csv",
                        shown(name)
                    ),
                );
                continue;
            }
            sink.row(RawRow {
                line: no,
                nth: u32::try_from(nth).unwrap_or(u32::MAX),
                kind: Cow::Borrowed("DomainName"),
                value: name.into(),
                action: Cow::Borrowed("Block"),
                ..RawRow::default()
            });
        }
    }
    Ok(())
}

/// Whether `s` is an IP address as hosts files write them (`fe80::1%lo0`
/// included).
pub(crate) fn is_address(s: &str) -> bool {
    let s = s.split_once('%').map_or(s, |(a, _)| a);
    s.parse::<IpAddr>().is_ok()
}

/// The names every hosts file carries for the local machine: not indicators.
fn is_boilerplate(name: &str) -> bool {
    [
        "localhost",
        "localhost.localdomain",
        "local",
        "broadcasthost",
        "0.0.0.0",
    ]
    .iter()
    .any(|b| b.eq_ignore_ascii_case(name))
        || name
            .as_bytes()
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"ip6-"))
}

/// Whether the first line that is not blank or a comment is
/// `<address> <name>` (for [`Format::Auto`](super::Format::Auto)).
pub(crate) fn looks_like_hosts(head: &[u8]) -> bool {
    let Some(line) = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty() && !l.starts_with(b"#"))
    else {
        return false;
    };
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    words.next().is_some_and(is_address) && words.next().is_some_and(|w| !w.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boilerplate_names() {
        for n in [
            "localhost",
            "LOCALHOST",
            "ip6-allnodes",
            "broadcasthost",
            "0.0.0.0",
        ] {
            assert!(is_boilerplate(n), "{n}");
        }
        for n in ["localhost.example", "ip6.example", "local.example"] {
            assert!(!is_boilerplate(n), "{n}");
        }
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_hosts(b"# x\n\n0.0.0.0 a.test\n"));
        assert!(looks_like_hosts(b"fe80::1%lo0 localhost\n"));
        assert!(!looks_like_hosts(b"block a.test\n"));
        assert!(!looks_like_hosts(b"1.2.3.4\n"));
    }
}
