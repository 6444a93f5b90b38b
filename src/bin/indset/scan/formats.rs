//! The log formats `indset scan` reads, how each is recognised, and how a
//! record gives up the URLs or host names to check.
//!
//! Every reader works on one line at a time: the scan splits its input at
//! line boundaries, so a record never spans lines (a CSV field quoted over
//! several lines is reported as malformed).

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use memchr::memmem;
use serde_json::Value;

/// The format forced by `--format`, or `auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Recognise the format from the first lines of each input.
    Auto,
    /// JSON lines: the `--field` of each object (default `url`, else `host`,
    /// else `query`, as `indset lookup` reads).
    Json,
    /// Zeek `http.log` in TSV: `http://` + `host` + `uri`.
    ZeekHttp,
    /// Zeek `dns.log` in TSV: the `query` host name.
    ZeekDns,
    /// Squid native, or a combined/common access log (nginx, Apache,
    /// Squid) whose request line holds an absolute URL or a CONNECT
    /// authority, or starts with a virtual host (`vhost_combined`).
    Access,
    /// CSV with a header naming the `--field` column (default `url`).
    Csv,
    /// Free text: every `http://`/`https://` URL, and every bare host name.
    Text,
}

/// How the records of one input are read: a format with its columns found.
#[derive(Debug)]
pub enum Layout {
    /// JSON lines; the keys tried in order.
    Json { keys: Vec<String> },
    /// Zeek TSV: the columns of the host (or DNS query) and of the URI.
    Zeek { host: usize, uri: Option<usize> },
    /// An access log.
    Access,
    /// CSV: the column of the URL; line 1 is the header.
    Csv { column: usize },
    /// Free text.
    Text,
}

/// What one record gave.
pub enum Found<'a> {
    /// A URL or host name to check.
    Query(Cow<'a, str>),
    /// The record cannot be read: why.
    Malformed(Cow<'static, str>),
}

/// Zeek's default column of `host` and `uri` in `http.log`, and of `query`
/// in `dns.log`, for a file forced to a Zeek format without its `#fields`
/// header.
const ZEEK_HTTP_HOST: usize = 8;
const ZEEK_HTTP_URI: usize = 9;
const ZEEK_DNS_QUERY: usize = 9;

/// Chooses the layout of an input from `sample`, its first bytes.
///
/// `field` is `--field`. Errors say what is missing from the input and how
/// to force a format.
pub fn layout(format: FormatArg, field: Option<&str>, sample: &[u8]) -> Result<Layout, String> {
    let lines: Vec<&[u8]> = sample
        .split(|&b| b == b'\n')
        .map(trim_cr)
        .filter(|l| !l.is_empty())
        .take(64)
        .collect();
    // The last line of a sample may be cut short: judge by the rest.
    let whole = if lines.len() > 1 && !sample.ends_with(b"\n") {
        &lines[..lines.len() - 1]
    } else {
        &lines[..]
    };
    let json = || Layout::Json {
        keys: match field {
            Some(f) => vec![f.to_string()],
            None => vec!["url".into(), "host".into(), "query".into()],
        },
    };
    let zeek = |dns: bool| -> Result<Layout, String> {
        let fields = lines.iter().find_map(|l| l.strip_prefix(b"#fields\t"));
        let Some(fields) = fields else {
            return Ok(if dns {
                Layout::Zeek {
                    host: ZEEK_DNS_QUERY,
                    uri: None,
                }
            } else {
                Layout::Zeek {
                    host: ZEEK_HTTP_HOST,
                    uri: Some(ZEEK_HTTP_URI),
                }
            });
        };
        let names: Vec<&[u8]> = fields.split(|&b| b == b'\t').collect();
        let at = |name: &str| names.iter().position(|n| *n == name.as_bytes());
        if dns {
            let host = at(field.unwrap_or("query"))
                .ok_or("the Zeek log's #fields has no `query` column: is it a dns.log?")?;
            Ok(Layout::Zeek { host, uri: None })
        } else {
            let host = at(field.unwrap_or("host"))
                .ok_or("the Zeek log's #fields has no `host` column: is it an http.log?")?;
            Ok(Layout::Zeek {
                host,
                uri: at("uri"),
            })
        }
    };
    let csv = || -> Result<Layout, String> {
        let name = field.unwrap_or("url");
        let header = lines.first().copied().unwrap_or_default();
        csv_fields(header)
            .and_then(|cells| cells.iter().position(|c| c.eq_ignore_ascii_case(name)))
            .map(|column| Layout::Csv { column })
            .ok_or_else(|| {
                format!("the CSV header has no `{name}` column: name the URL column with --field")
            })
    };
    match format {
        FormatArg::Json => Ok(json()),
        FormatArg::ZeekHttp => zeek(false),
        FormatArg::ZeekDns => zeek(true),
        FormatArg::Access => Ok(Layout::Access),
        FormatArg::Csv => csv(),
        FormatArg::Text => Ok(Layout::Text),
        FormatArg::Auto => {
            if let Some(path) = lines.iter().find_map(|l| l.strip_prefix(b"#path\t")) {
                return match path {
                    b"http" => zeek(false),
                    b"dns" => zeek(true),
                    other => Err(format!(
                        "a Zeek `{}` log: scan reads http.log and dns.log; force another reading with --format",
                        String::from_utf8_lossy(other)
                    )),
                };
            }
            let Some(first) = whole.first() else {
                return Ok(Layout::Text);
            };
            if first.starts_with(b"{") {
                return Ok(json());
            }
            if whole.iter().filter(|l| access_target(l).is_some()).count() * 2 > whole.len() {
                return Ok(Layout::Access);
            }
            if first.contains(&b',') {
                let name = field.unwrap_or("url");
                let named = csv_fields(first)
                    .is_some_and(|cells| cells.iter().any(|c| c.eq_ignore_ascii_case(name)));
                if named {
                    return csv();
                }
            }
            Ok(Layout::Text)
        }
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The fields of one CSV line, or `None` when its quoting does not close
/// on the line.
fn csv_fields(line: &[u8]) -> Option<Vec<String>> {
    let mut reader = csv_core::Reader::new();
    let mut out = Vec::new();
    // A field is never longer than the line it comes from.
    let mut buf = vec![0u8; line.len() + 1];
    let mut input = line;
    // Bytes of the current field written so far: csv-core writes a field
    // across calls when the input runs out in the middle of it.
    let mut len = 0;
    let mut ended = false;
    loop {
        let (res, nin, nout) = reader.read_field(input, &mut buf[len..]);
        input = &input[nin..];
        len += nout;
        match res {
            csv_core::ReadFieldResult::Field { record_end } => {
                out.push(String::from_utf8_lossy(&buf[..len]).trim().to_string());
                len = 0;
                if record_end {
                    return Some(out);
                }
            }
            // No more input: a second call with none ends the record.
            csv_core::ReadFieldResult::InputEmpty if !ended => ended = true,
            _ => return None,
        }
        if ended && in_open_quote(line) {
            return None;
        }
    }
}

/// Whether a line leaves a quote open: an odd number of `"`.
fn in_open_quote(line: &[u8]) -> bool {
    memchr::memchr_iter(b'"', line).count() % 2 == 1
}

/// The reader of one layout: holds its searchers, built once per scan.
pub struct Reader {
    layout: Layout,
    /// `"KEY"` for each JSON key.
    keys: Vec<memmem::Finder<'static>>,
    schemes: AhoCorasick,
}

impl Reader {
    pub fn new(layout: Layout) -> Reader {
        let keys = match &layout {
            Layout::Json { keys } => keys
                .iter()
                .map(|k| {
                    memmem::Finder::new(&serde_json::to_vec(k).unwrap_or_default()).into_owned()
                })
                .collect(),
            _ => Vec::new(),
        };
        let schemes = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(["https://", "http://"])
            .expect("two literal patterns always build");
        Reader {
            layout,
            keys,
            schemes,
        }
    }

    /// Calls `found` for each URL or host of the line numbered `number`
    /// (its terminator removed); header and comment lines give nothing.
    pub fn read<'a>(&self, number: u64, line: &'a [u8], found: &mut impl FnMut(Found<'a>)) {
        let line = trim_cr(line);
        match &self.layout {
            Layout::Json { keys } => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    return;
                }
                found(self.json(keys, line));
            }
            Layout::Zeek { host, uri } => {
                if line.is_empty() || line.starts_with(b"#") {
                    return;
                }
                found(zeek(line, *host, *uri));
            }
            Layout::Access => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    return;
                }
                found(match access_target(line) {
                    Some(Ok(q)) => Found::Query(q),
                    Some(Err(why)) => Found::Malformed(why.into()),
                    None => Found::Malformed("not an access log line".into()),
                });
            }
            Layout::Csv { column } => {
                if number == 1 || line.is_empty() {
                    return;
                }
                found(match csv_fields(line) {
                    None => Found::Malformed("its quoting does not close on the line".into()),
                    Some(cells) => match cells.into_iter().nth(*column) {
                        Some(c) if !c.is_empty() => Found::Query(c.into()),
                        _ => Found::Malformed("the URL column is missing or empty".into()),
                    },
                });
            }
            Layout::Text => text(&self.schemes, line, found),
        }
    }

    /// The first of `keys` an object has, as `indset lookup` reads it.
    ///
    /// The fast path finds `"KEY"` with memmem and takes the string after it
    /// without parsing the rest of the record. It is taken only when it
    /// must agree with a full parse: the key is at the top level (no
    /// escape, `{` or `[` before it, an even number of quotes), the value is
    /// a string without escapes, and the key does not appear again (a later
    /// duplicate would win). Otherwise the line is parsed in full. A
    /// record's other fields are not validated on the fast path.
    fn json<'a>(&self, names: &[String], line: &'a [u8]) -> Found<'a> {
        let line = line.trim_ascii();
        if !line.starts_with(b"{") || !line.ends_with(b"}") {
            return Found::Malformed("not a JSON object".into());
        }
        for finder in &self.keys {
            match json_fast(finder, line) {
                Fast::Value(v) => return Found::Query(Cow::Borrowed(v)),
                Fast::Absent => continue,
                Fast::Unsure => return json_slow(names, line),
            }
        }
        json_slow(names, line)
    }
}

enum Fast<'a> {
    Value(&'a str),
    Absent,
    Unsure,
}

fn json_fast<'a>(finder: &memmem::Finder<'_>, line: &'a [u8]) -> Fast<'a> {
    let Some(at) = finder.find(line) else {
        return Fast::Absent;
    };
    let before = &line[1..at];
    if memchr::memchr3(b'\\', b'{', b'[', before).is_some()
        || memchr::memchr_iter(b'"', before).count() % 2 == 1
    {
        return Fast::Unsure;
    }
    let mut rest = line[at + finder.needle().len()..].trim_ascii_start();
    let Some(r) = rest.strip_prefix(b":") else {
        return Fast::Unsure;
    };
    rest = r.trim_ascii_start();
    let Some(r) = rest.strip_prefix(b"\"") else {
        return Fast::Unsure;
    };
    let Some(end) = memchr::memchr2(b'"', b'\\', r) else {
        return Fast::Unsure;
    };
    if r[end] != b'"' {
        return Fast::Unsure;
    }
    let value = &r[..end];
    if value.iter().any(|&b| b < 0x20) || finder.find(&r[end..]).is_some() {
        return Fast::Unsure;
    }
    match std::str::from_utf8(value) {
        Ok(v) => Fast::Value(v),
        Err(_) => Fast::Unsure,
    }
}

fn json_slow<'a>(names: &[String], line: &'a [u8]) -> Found<'a> {
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(line) else {
        return Found::Malformed("not a valid JSON object".into());
    };
    match names.iter().find_map(|k| map.remove(k)) {
        Some(Value::String(s)) => Found::Query(Cow::Owned(s)),
        Some(_) => Found::Malformed(format!("`{}` is not a string", names[0]).into()),
        None => Found::Malformed(format!("no `{}` field", names.join("`, `")).into()),
    }
}

/// A Zeek TSV record: `http://HOST/URI` for http.log, the host for dns.log.
fn zeek(line: &[u8], host: usize, uri: Option<usize>) -> Found<'_> {
    let last = host.max(uri.unwrap_or(0));
    let cells: Vec<&[u8]> = line.splitn(last + 2, |&b| b == b'\t').collect();
    let Some(h) = cells.get(host) else {
        return Found::Malformed("fewer columns than the #fields header".into());
    };
    let unset = |c: &[u8]| c == b"-" || c == b"(empty)" || c.is_empty();
    if unset(h) {
        return Found::Malformed("no host".into());
    }
    let Ok(h) = std::str::from_utf8(h) else {
        return Found::Malformed("the host is not UTF-8".into());
    };
    let Some(uri) = uri else {
        return Found::Query(Cow::Borrowed(h));
    };
    let u = match cells.get(uri) {
        Some(u) if !unset(u) => *u,
        _ => b"/",
    };
    let Ok(u) = std::str::from_utf8(u) else {
        return Found::Malformed("the URI is not UTF-8".into());
    };
    // A proxy's log holds an absolute URI.
    if !u.starts_with('/') && u.contains("://") {
        return Found::Query(Cow::Borrowed(u));
    }
    let sep = if u.starts_with('/') { "" } else { "/" };
    Found::Query(Cow::Owned(format!("http://{h}{sep}{u}")))
}

/// The URL of an access-log line: `None` when it is not one, an error when
/// it is but names no host.
///
/// Squid's native format has the URL in its seventh column; the combined
/// and common formats (nginx, Apache, Squid's `combined`) have it in the
/// quoted request line, which a forward proxy logs in absolute form
/// (`GET http://host/path HTTP/1.1`) or authority form (`CONNECT
/// host:443`). A reverse proxy logs only the path; Apache's
/// `vhost_combined` puts `host:port` first, which gives the host.
fn access_target(line: &[u8]) -> Option<Result<Cow<'_, str>, &'static str>> {
    let text = std::str::from_utf8(line).ok()?;
    if let Some(open) = text.find(" \"") {
        let request = &text[open + 2..];
        let request = &request[..request.find('"')?];
        let mut parts = request.split(' ');
        let method = parts.next()?;
        let target = parts.next()?;
        let version = parts.next()?;
        if method.is_empty()
            || !method.bytes().all(|b| b.is_ascii_uppercase())
            || !version.starts_with("HTTP/")
        {
            return None;
        }
        return Some(request_target(text, method, target));
    }
    let cols: Vec<&str> = text.split_ascii_whitespace().take(7).collect();
    let squid = cols.len() == 7
        && cols[0].contains('.')
        && cols[0].bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && cols[3].contains('/');
    if !squid {
        return None;
    }
    Some(if cols[5] == "CONNECT" {
        Ok(Cow::Owned(format!("https://{}/", cols[6])))
    } else if cols[6].contains("://") {
        Ok(Cow::Borrowed(cols[6]))
    } else {
        Err("the URL column holds no host")
    })
}

fn request_target<'a>(
    line: &'a str,
    method: &str,
    target: &'a str,
) -> Result<Cow<'a, str>, &'static str> {
    if method == "CONNECT" {
        return Ok(Cow::Owned(format!("https://{target}/")));
    }
    if target.contains("://") {
        return Ok(Cow::Borrowed(target));
    }
    // vhost_combined: `host:port client - - [time] "..."`.
    let first = line.split(' ').next().unwrap_or_default();
    let vhost = first.split(':').next().unwrap_or_default();
    if target.starts_with('/')
        && vhost.contains('.')
        && !vhost.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return Ok(Cow::Owned(format!("http://{vhost}{target}")));
    }
    Err(
        "the request line names no host (a reverse proxy's log: give its virtual host with vhost_combined)",
    )
}

/// Ends a URL or host in free text.
fn delimits(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'"' | b'\'' | b'<' | b'>' | b'`' | b'|' | b'\\' | b'{' | b'}' | b'^'
        )
}

/// Punctuation that ends a sentence rather than a URL.
fn trim_punct(s: &[u8]) -> &[u8] {
    let mut end = s.len();
    while end > 0
        && matches!(
            s[end - 1],
            b'.' | b',' | b';' | b':' | b')' | b']' | b'!' | b'?'
        )
    {
        end -= 1;
    }
    &s[..end]
}

/// Free text: every `http(s)://` URL (found with aho-corasick), then every
/// bare host name (a token around a `.`, found with memchr) outside them.
fn text<'a>(schemes: &AhoCorasick, line: &'a [u8], found: &mut impl FnMut(Found<'a>)) {
    let mut covered = 0;
    let mut urls: Vec<(usize, usize)> = Vec::new();
    for m in schemes.find_iter(line) {
        if m.start() < covered {
            continue;
        }
        let end = line[m.end()..]
            .iter()
            .position(|&b| delimits(b))
            .map_or(line.len(), |i| m.end() + i);
        let url = trim_punct(&line[m.start()..end]);
        if url.len() > m.end() - m.start() {
            if let Ok(u) = std::str::from_utf8(url) {
                urls.push((m.start(), end));
                found(Found::Query(Cow::Borrowed(u)));
            }
        }
        covered = end;
    }
    let mut next = 0;
    let mut spans = urls.iter().peekable();
    for dot in memchr::memchr_iter(b'.', line) {
        if dot < next {
            continue;
        }
        while spans.peek().is_some_and(|s| s.1 <= dot) {
            spans.next();
        }
        if let Some(&&(s, e)) = spans.peek() {
            if s <= dot {
                next = e;
                continue;
            }
        }
        let start = line[..dot]
            .iter()
            .rposition(|&b| delimits(b))
            .map_or(0, |i| i + 1);
        let end = line[dot..]
            .iter()
            .position(|&b| delimits(b))
            .map_or(line.len(), |i| dot + i);
        next = end;
        let token = trim_punct(&line[start..end]);
        if let Some(host) = bare_host(token) {
            found(Found::Query(Cow::Borrowed(host)));
        }
    }
}

/// A token that is a host name (with an optional port and path): labels of
/// letters, digits, hyphens and underscores (real hosts carry them), at least two, the last all letters (or
/// `xn--`).
fn bare_host(token: &[u8]) -> Option<&str> {
    let token = token.trim_ascii_start();
    let token = token
        .iter()
        .position(|&b| !matches!(b, b'(' | b'[' | b','))
        .map_or(&token[..0], |i| &token[i..]);
    let auth_end = token
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(token.len());
    let auth = &token[..auth_end];
    let host = auth.split(|&b| b == b':').next().unwrap_or_default();
    let port = &auth[host.len()..];
    if !port.is_empty() && !port[1..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut labels = 0;
    let mut last: &[u8] = &[];
    for label in host.split(|&b| b == b'.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        if !label
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        labels += 1;
        last = label;
    }
    // A top-level domain is letters, or an IDNA `xn--` label.
    let tld = last.iter().all(u8::is_ascii_alphabetic)
        || (last.len() > 4 && last[..4].eq_ignore_ascii_case(b"xn--"));
    if labels < 2 || host.len() > 253 || !tld {
        return None;
    }
    std::str::from_utf8(token).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(layout: Layout, lines: &[&str]) -> Vec<String> {
        let reader = Reader::new(layout);
        let mut out = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            reader.read(i as u64 + 1, l.as_bytes(), &mut |f| {
                out.push(match f {
                    Found::Query(q) => q.into_owned(),
                    Found::Malformed(m) => format!("! {m}"),
                })
            });
        }
        out
    }

    #[test]
    fn json_fast_and_slow_paths_agree_with_a_full_parse() {
        let keys = || Layout::Json {
            keys: vec!["url".into(), "host".into(), "query".into()],
        };
        let got = all(
            keys(),
            &[
                r#"{"frameUrl":"https://a.test/","url":"https://b.test/x","cpt":"script"}"#,
                r#"{"a":"say \"url\":\"no\"","url":"https://c.test/"}"#,
                r#"{"meta":{"url":"https://inner.test/"},"url":"https://outer.test/"}"#,
                r#"{"url":"https://first.test/","url":"https://last.test/"}"#,
                r#"{"url":"https:\/\/escaped.test\/"}"#,
                r#"{"host":"h.test"}"#,
                r#"{"url":7}"#,
                r#"{"other":"x"}"#,
                r#"{"url":"https://truncated.test/"#,
                "plain words",
            ],
        );
        assert_eq!(
            got,
            [
                "https://b.test/x",
                "https://c.test/",
                "https://outer.test/",
                "https://last.test/",
                "https://escaped.test/",
                "h.test",
                "! `url` is not a string",
                "! no `url`, `host`, `query` field",
                "! not a JSON object",
                "! not a JSON object",
            ]
        );
    }

    #[test]
    fn access_logs_give_absolute_urls_and_connect_authorities() {
        let got = all(
            Layout::Access,
            &[
                r#"10.0.0.1 - - [10/Oct/2019:13:55:36 +0000] "GET http://a.test/x?y=1 HTTP/1.1" 200 2326 "-" "curl""#,
                r#"10.0.0.1 - - [10/Oct/2019:13:55:36 +0000] "CONNECT b.test:443 HTTP/1.1" 200 0"#,
                "1570715736.123    45 10.0.0.1 TCP_MISS/200 512 GET http://c.test/p - HIER_DIRECT/1.2.3.4 text/html",
                "1570715736.123    45 10.0.0.1 TCP_TUNNEL/200 512 CONNECT d.test:443 - HIER_DIRECT/1.2.3.4 -",
                r#"www.e.test:80 10.0.0.1 - - [10/Oct/2019:13:55:36 +0000] "GET /e HTTP/1.1" 200 1"#,
                r#"10.0.0.1 - - [10/Oct/2019:13:55:36 +0000] "GET /only-a-path HTTP/1.1" 200 1"#,
            ],
        );
        assert_eq!(
            got[..5],
            [
                "http://a.test/x?y=1",
                "https://b.test:443/",
                "http://c.test/p",
                "https://d.test:443/",
                "http://www.e.test/e",
            ]
        );
        assert!(got[5].starts_with("! the request line names no host"));
    }

    #[test]
    fn text_finds_urls_then_bare_hosts() {
        let got = all(
            Layout::Text,
            &[
                "see HTTPS://A.test/x?q=1, then b.example.org/path and (c.test). not 1.2.3 or file.txt5 \"http://\"",
            ],
        );
        assert_eq!(
            got,
            ["HTTPS://A.test/x?q=1", "b.example.org/path", "c.test"]
        );
    }

    #[test]
    fn zeek_and_csv_columns_come_from_their_headers() {
        let sample =
            b"#separator \\x09\n#path\thttp\n#fields\tts\tuid\thost\turi\n1\tC\ta.test\t/x\n";
        let zeek = layout(FormatArg::Auto, None, sample).unwrap();
        assert_eq!(
            all(zeek, &["#fields\tts", "1\tC\ta.test\t/x", "1\tC\t-\t/x"]),
            ["http://a.test/x", "! no host"]
        );
        let csv = layout(
            FormatArg::Auto,
            Some("link"),
            b"id,link\n1,\"http://a.test/x,y\"\n",
        )
        .unwrap();
        assert_eq!(
            all(csv, &["id,link", "1,\"http://a.test/x,y\"", "2,\"open"]),
            [
                "http://a.test/x,y",
                "! its quoting does not close on the line"
            ]
        );
    }
}
