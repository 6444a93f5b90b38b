//! `indset scan` against `indset lookup`: logs of every format are built
//! from the real request URLs of `data/`, and scan must report exactly the
//! records that lookup decides for the URL (or host) each record holds, on
//! the same line, with the same verdict and indicators.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use indset_test_support::data::request_urls;
use indset_test_support::fixtures::{json_lines, text};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_indset");
const NOW: &str = "2026-06-01T00:00:00Z";

/// The bundled lists compiled once, and the scratch directory holding them.
fn scratch() -> &'static (tempfile::TempDir, PathBuf) {
    static SCRATCH: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    SCRATCH.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let set = dir.path().join("bundled.indset");
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let out = Command::new(BIN)
            .args(["compile", "--now", NOW, "-o"])
            .arg(&set)
            .args(
                [
                    "urlhaus-indicators.csv",
                    "stevenblack-hosts-2019.txt",
                    "eth-phishing-detect.txt",
                    "disposable-email-domains.txt",
                ]
                .map(|f| data.join(f)),
            )
            .output()
            .expect("run indset compile");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        (dir, set)
    })
}

fn set() -> &'static Path {
    &scratch().1
}

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch().0.path().join(name);
    fs::write(&path, bytes).expect("write a log");
    path
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run indset");
    let mut input = child.stdin.take().expect("stdin");
    let bytes = stdin.unwrap_or_default().to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let out = child.wait_with_output().expect("wait for indset");
    feeder.join().expect("stdin writer");
    out
}

fn scan(log: &Path, extra: &[&str]) -> Output {
    let set = set().to_str().expect("UTF-8 path");
    let log = log.to_str().expect("UTF-8 path");
    let mut args = vec!["scan", "--set", set, "--now", NOW];
    args.extend_from_slice(extra);
    args.push(log);
    run(&args, None)
}

/// One decided record: line, query, action, deciding and audit indicator.
type Decided = (u64, String, String, Value, Value);

fn decided_by_scan(out: &Output) -> Vec<Decided> {
    json_lines(out)
        .into_iter()
        .map(|v| {
            (
                v["line"].as_u64().expect("line"),
                v["query"].as_str().expect("query").to_string(),
                v["action"].as_str().expect("action").to_string(),
                v["indicator"].clone(),
                v["audit"].clone(),
            )
        })
        .collect()
}

/// What `indset lookup` decides for each `(line, query)`: those with a
/// deciding or an audit indicator.
fn decided_by_lookup(queries: &[(u64, String)], mode: &str) -> Vec<Decided> {
    let mut stdin = String::new();
    for (_, q) in queries {
        stdin.push_str(q);
        stdin.push('\n');
    }
    let set = set().to_str().expect("UTF-8 path");
    let out = run(
        &["lookup", "--set", set, "--now", NOW, "--mode", mode],
        Some(stdin.as_bytes()),
    );
    let answers = json_lines(&out);
    assert_eq!(answers.len(), queries.len());
    queries
        .iter()
        .zip(answers)
        .filter(|(_, a)| !a["indicator"].is_null() || !a["audit"].is_null())
        .map(|((line, q), a)| {
            (
                *line,
                q.clone(),
                a["action"].as_str().expect("action").to_string(),
                a["indicator"].clone(),
                a["audit"].clone(),
            )
        })
        .collect()
}

/// The request URLs a log line can carry as they are: http(s), no
/// whitespace or control bytes (a log line holds them unquoted), none
/// that free text would end early (quotes, `<>`, trailing punctuation).
fn urls() -> Vec<String> {
    request_urls()
        .into_iter()
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .filter(|u| !u.bytes().any(|b| b <= b' ' || b >= 0x7f))
        .filter(|u| !u.contains(['"', '\'', '<', '>', '`', '|', '\\', '{', '}', '^', '#']))
        .filter(|u| !u.ends_with(['.', ',', ';', ':', ')', ']', '!', '?']))
        .collect()
}

/// `(host with port, path and query)` of a URL.
fn split(url: &str) -> (&str, &str) {
    let rest = &url[url.find("://").expect("a scheme") + 3..];
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    (&rest[..end], &rest[end..])
}

/// The host alone, without userinfo or port.
fn host(url: &str) -> &str {
    let auth = split(url).0;
    let auth = auth.rsplit('@').next().unwrap_or(auth);
    auth.split(':').next().unwrap_or(auth)
}

/// Builds a log: `lines[i]` is line `i + 1`; `queries` the `(line, query)`
/// each line holds.
struct Log {
    text: String,
    lines: u64,
    queries: Vec<(u64, String)>,
}

impl Log {
    fn new() -> Log {
        Log {
            text: String::new(),
            lines: 0,
            queries: Vec::new(),
        }
    }

    fn line(&mut self, line: &str, query: Option<String>) {
        self.text.push_str(line);
        self.text.push('\n');
        self.lines += 1;
        if let Some(q) = query {
            self.queries.push((self.lines, q));
        }
    }
}

/// Scans `log` and checks it against lookup; returns how many matched.
fn agrees(name: &str, log: &Log, mode: &str, extra: &[&str]) -> usize {
    let path = write(name, log.text.as_bytes());
    let mut args = vec!["--mode", mode];
    args.extend_from_slice(extra);
    let out = scan(&path, &args);
    assert_eq!(text(&out.stderr), "", "{name}: nothing malformed");
    let got = decided_by_scan(&out);
    let want = decided_by_lookup(&log.queries, mode);
    let only_scan: Vec<_> = got.iter().filter(|g| !want.contains(g)).take(3).collect();
    let only_lookup: Vec<_> = want.iter().filter(|w| !got.contains(w)).take(3).collect();
    assert!(
        got == want,
        "{name}: scan only {only_scan:?}; lookup only {only_lookup:?}"
    );
    // The bundled lists block thousands of these requests (the README's
    // demo): a scan that found few would be reading the format wrong.
    assert!(got.len() > 1000, "{name}: only {} matches", got.len());
    got.len()
}

fn json_log(urls: &[String]) -> Log {
    let mut log = Log::new();
    for (i, u) in urls.iter().enumerate() {
        let record = json!({"ts": 1_570_000_000 + i, "frameUrl": "https://frame.test/", "url": u, "cpt": "script"});
        log.line(&record.to_string(), Some(u.clone()));
    }
    log
}

#[test]
fn json_lines_agree_with_lookup() {
    let urls = urls();
    assert!(urls.len() > 25_000, "the real requests: {}", urls.len());
    agrees("requests.jsonl", &json_log(&urls), "full", &[]);
    agrees("requests-domain.jsonl", &json_log(&urls), "domain", &[]);
}

#[test]
fn a_chosen_json_field_and_escaped_values_agree_with_lookup() {
    let mut log = Log::new();
    for (i, u) in urls().iter().enumerate() {
        // Every third value escaped as some encoders write JSON (`\/`).
        let value = serde_json::to_string(u).expect("a string");
        let value = if i % 3 == 0 {
            value.replace('/', "\\/")
        } else {
            value
        };
        log.line(
            &format!(r#"{{"url":"https://decoy.test/","link":{value}}}"#),
            Some(u.clone()),
        );
    }
    agrees("link.jsonl", &log, "full", &["--field", "link"]);
}

#[test]
fn zeek_http_and_dns_logs_agree_with_lookup() {
    let urls = urls();
    let mut http = Log::new();
    http.line("#separator \\x09", None);
    http.line("#path\thttp", None);
    http.line(
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\treferrer\tuser_agent",
        None,
    );
    let mut dns = Log::new();
    dns.line("#separator \\x09", None);
    dns.line("#path\tdns", None);
    dns.line(
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass",
        None,
    );
    for (i, u) in urls.iter().enumerate() {
        let (auth, uri) = split(u);
        let auth = auth.rsplit('@').next().unwrap_or(auth);
        let uri = if uri.is_empty() { "-" } else { uri };
        let shown = if uri == "-" { "/" } else { uri };
        http.line(
            &format!("1570000000.{i:06}\tC{i}\t10.0.0.1\t5000{}\t1.2.3.4\t80\t1\tGET\t{auth}\t{uri}\t-\tMozilla", i % 10),
            Some(format!("http://{auth}{shown}")),
        );
        let h = host(u);
        dns.line(
            &format!(
                "1570000000.{i:06}\tD{i}\t10.0.0.1\t53000\t8.8.8.8\t53\tudp\t{i}\t0.01\t{h}\t1"
            ),
            Some(h.to_string()),
        );
    }
    http.line("#close\t2019-10-10-00-00-00", None);
    agrees("http.log", &http, "full", &[]);
    agrees("dns.log", &dns, "domain", &[]);
}

#[test]
fn access_logs_agree_with_lookup() {
    let mut log = Log::new();
    for (i, u) in urls().iter().enumerate() {
        let (auth, _) = split(u);
        match i % 3 {
            0 => log.line(
                &format!(r#"10.0.0.{} - - [10/Oct/2019:13:55:36 +0000] "GET {u} HTTP/1.1" 200 2326 "-" "Mozilla/5.0""#, i % 250),
                Some(u.clone()),
            ),
            1 => log.line(
                &format!("1570715736.{:03} {:5} 10.0.0.1 TCP_MISS/200 512 GET {u} - HIER_DIRECT/1.2.3.4 text/html", i % 1000, i % 977),
                Some(u.clone()),
            ),
            _ => log.line(
                &format!(r#"10.0.0.1 - - [10/Oct/2019:13:55:36 +0000] "CONNECT {auth} HTTP/1.1" 200 0 "-" "-""#),
                Some(format!("https://{auth}/")),
            ),
        }
    }
    agrees("access.log", &log, "full", &[]);
}

#[test]
fn csv_agrees_with_lookup() {
    let mut log = Log::new();
    log.line("time,client,URL,bytes", None);
    for (i, u) in urls().iter().enumerate() {
        // Quote as a CSV writer does: every URL with a comma or a quote.
        let field = if u.contains([',', '"']) {
            format!("\"{}\"", u.replace('"', "\"\""))
        } else {
            u.clone()
        };
        log.line(
            &format!("2019-10-10T00:00:{:02}Z,10.0.0.1,{field},{i}", i % 60),
            Some(u.clone()),
        );
    }
    agrees("proxy.csv", &log, "full", &[]);
}

#[test]
fn free_text_agrees_with_lookup() {
    let mut log = Log::new();
    for (i, u) in urls().iter().enumerate() {
        log.line(
            &format!("Oct 10 13:55:36 fw1 proxy[{i}]: GET {u} from 10.0.0.1 status=200"),
            Some(u.clone()),
        );
        if i % 7 == 0 {
            let h = host(u);
            if h.rsplit('.')
                .next()
                .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_alphabetic()))
            {
                log.line(
                    &format!("Oct 10 13:55:36 dns1 named: resolved {h} to 10.0.0.2."),
                    Some(h.to_string()),
                );
            }
        }
    }
    agrees("messages.log", &log, "full", &["--format", "text"]);
}

#[test]
fn gzip_and_zstd_logs_give_the_plain_logs_answers() {
    let log = json_log(&urls());
    let plain = write("plain.jsonl", log.text.as_bytes());
    let want = decided_by_scan(&scan(&plain, &[]));

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Two gzip members, as `cat a.gz b.gz` makes: both are read.
    let half = log.text[..log.text.len() / 2].rfind('\n').expect("a line") + 1;
    gz.write_all(&log.text.as_bytes()[..half]).expect("gzip");
    let mut bytes = gz.finish().expect("gzip");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&log.text.as_bytes()[half..]).expect("gzip");
    bytes.extend(gz.finish().expect("gzip"));
    let gz = write("log.jsonl.gz", &bytes);
    assert_eq!(decided_by_scan(&scan(&gz, &[])), want);

    let zst = zstd::encode_all(log.text.as_bytes(), 1).expect("zstd");
    // The name does not matter: the magic bytes do.
    let zst = write("log-without-extension", &zst);
    assert_eq!(decided_by_scan(&scan(&zst, &[])), want);
}

#[test]
fn every_chunk_size_and_thread_count_gives_the_same_output_in_input_order() {
    let urls = urls();
    let log = json_log(&urls[..3000]);
    let path = write("chunks.jsonl", log.text.as_bytes());
    let whole = scan(&path, &["--threads", "1", "--all"]);
    let lines = json_lines(&whole);
    // The records without the file's name, to compare two files.
    let records = |out: &Output| -> Vec<Value> {
        json_lines(out)
            .into_iter()
            .map(|mut v| {
                v["file"] = Value::Null;
                v
            })
            .collect()
    };
    assert_eq!(lines.len(), 3000, "--all prints every record");
    let numbers: Vec<u64> = lines
        .iter()
        .map(|v| v["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(numbers, (1..=3000).collect::<Vec<_>>());
    for chunk in ["1", "7", "4096"] {
        for threads in ["1", "2", "3"] {
            let out = scan(
                &path,
                &["--all", "--chunk-size", chunk, "--threads", threads],
            );
            assert_eq!(
                out.stdout, whole.stdout,
                "--chunk-size {chunk} --threads {threads}"
            );
        }
    }
    // A last line without its newline is still read.
    let cut = write("no-final-newline.jsonl", log.text.trim_end().as_bytes());
    for chunk in ["1", "4096", "1048576"] {
        let out = scan(&cut, &["--all", "--chunk-size", chunk]);
        assert_eq!(records(&out), records(&whole), "--chunk-size {chunk}");
    }
}

#[test]
fn several_logs_and_stdin_are_named_in_their_records() {
    let urls = urls();
    let a = write("a.jsonl", json_log(&urls[..2000]).text.as_bytes());
    let b = write("b.jsonl", json_log(&urls[2000..4000]).text.as_bytes());
    let set = set().to_str().expect("UTF-8 path");
    let (a, b) = (a.to_str().expect("path"), b.to_str().expect("path"));
    let out = run(
        &[
            "scan",
            "--set",
            set,
            "--now",
            NOW,
            "--chunk-size",
            "100",
            a,
            b,
        ],
        None,
    );
    let files: Vec<String> = json_lines(&out)
        .iter()
        .map(|v| v["file"].as_str().expect("file").to_string())
        .collect();
    let split = files.iter().position(|f| f == b).expect("records of b");
    assert!(split > 0 && files[..split].iter().all(|f| f == a));
    assert!(files[split..].iter().all(|f| f == b));

    let stdin = json_log(&urls[..2000]).text;
    let out = run(
        &["scan", "--set", set, "--now", NOW],
        Some(stdin.as_bytes()),
    );
    let from_stdin = json_lines(&out);
    assert_eq!(from_stdin.len(), split);
    assert!(from_stdin.iter().all(|v| v["file"] == "-"));
}

#[test]
fn malformed_records_are_reported_with_their_line_and_skipped() {
    let u = "https://www.google-analytics.com/analytics.js";
    let long = format!(r#"{{"url":"https://x.test/{}"}}"#, "a".repeat(1 << 21));
    let lines = [
        format!(r#"{{"url":"{u}"}}"#),
        r#"{"url":"https://truncated"#.to_string(),
        r#"{"url":42}"#.to_string(),
        "not json at all".to_string(),
        long,
        r#"{"nothing":"here"}"#.to_string(),
        format!(r#"{{"url":"{u}"}}"#),
    ];
    let long_len = lines[4].len();
    let path = write("malformed.jsonl", (lines.join("\n") + "\n").as_bytes());
    for chunk in ["1", "1048576"] {
        let out = scan(
            &path,
            &["--format", "json", "--summary", "--chunk-size", chunk],
        );
        let got: Vec<u64> = json_lines(&out)
            .iter()
            .map(|v| v["line"].as_u64().expect("line"))
            .collect();
        assert_eq!(got, [1, 7], "the good records keep their lines");
        let err = text(&out.stderr);
        let name = path.display();
        for (line, why) in [
            (2, "not a JSON object"),
            (3, "`url` is not a string"),
            (4, "not a JSON object"),
            (
                5,
                &format!("a line of {long_len} bytes, over the 1 MiB limit"),
            ),
            (6, "no `url`, `host`, `query` field"),
        ] {
            let want = format!("indset: {name}:{line}: malformed record: {why}\n");
            assert!(err.contains(&want), "{want} in {err}");
        }
        assert!(
            err.contains(
                "2 checked: 2 block, 0 warn, 0 allow, 0 audit, 0 none (0 invalid); 5 malformed"
            ),
            "{err}"
        );
    }
}

#[test]
fn a_closed_pipe_ends_the_scan_quietly() {
    let mut text_log = String::new();
    for _ in 0..20 {
        text_log.push_str(&json_log(&urls()).text);
    }
    let path = write("big.jsonl", text_log.as_bytes());
    let set = set().to_str().expect("UTF-8 path");
    let mut child = Command::new(BIN)
        .args(["scan", "--all", "--set", set, "--chunk-size", "65536"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run indset");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).expect("some output");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn an_unknown_csv_column_and_a_missing_log_say_how_to_fix_them() {
    let path = write("noheader.csv", b"a,b\n1,2\n");
    let out = scan(&path, &["--format", "csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("has no `url` column: name the URL column with --field"));
    let out = scan(Path::new("/nonexistent/x.log"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot open the log /nonexistent/x.log"));
}
