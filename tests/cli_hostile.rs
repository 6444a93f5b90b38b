//! The `indset` binary on hostile and messy input: unreadable files, empty
//! sets, over-long or undecodable query lines, closed pipes, outputs that
//! name inputs, and the messages each of these gets.

use std::fs;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use indset_test_support::fixtures::{json_lines, text};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_indset");
const NOW: &str = "2026-06-01T00:00:00Z";

const PORTAL_CSV: &str = "\
IndicatorType,IndicatorValue,ExpirationTime,Action,Severity,Title,Description,RecommendedActions,RbacGroups,Category,MitreTechniques,GenerateAlert
DomainName,example.com,,Block,High,Example block,,,,,,True
DomainName,partner.example.com,,Allowed,,,,,,,,
IpAddress,1.2.3.4,,Block,High,An IP,,,,,,
DomainName,*.wild.example,,Block,,,,,,,,
";

/// A scratch directory holding `portal.csv` and, compiled from it,
/// `set.indset`.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let s = Scratch {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        fs::write(s.path("portal.csv"), PORTAL_CSV).expect("write portal.csv");
        let out = s.compile(&["-o", &s.arg("set.indset"), &s.arg("portal.csv")]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        s
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn compile(&self, args: &[&str]) -> Output {
        let mut all = vec!["compile", "--now", NOW];
        all.extend_from_slice(args);
        run(&all, b"")
    }

    fn lookup(&self, args: &[&str], stdin: &[u8]) -> Output {
        let set = self.arg("set.indset");
        let mut all = vec!["lookup", "--now", NOW, "--set", &set];
        all.extend_from_slice(args);
        run(&all, stdin)
    }

    /// The names in the scratch directory that look like temporary files.
    fn temporaries(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.dir.path())
            .expect("read the scratch directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.') || n.contains("tmp"))
            .collect();
        names.sort();
        names
    }
}

fn spawn(args: &[&str]) -> Child {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run indset")
}

/// Runs the binary with `stdin` and waits, for at most a minute.
fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = spawn(args);
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        // The child may stop reading early; that is its business.
        let _ = pipe.write_all(&input);
    });
    let out = wait_bounded(child);
    feeder.join().expect("the stdin feeder");
    out
}

/// Waits for `child`, killing it after a minute so a hang fails the test
/// instead of stalling the suite.
fn wait_bounded(mut child: Child) -> Output {
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let read_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut b);
        }
        b
    });
    let read_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut b);
        }
        b
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("indset did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: read_out.join().expect("stdout reader"),
        stderr: read_err.join().expect("stderr reader"),
    }
}

// Unreadable inputs and empty sets never replace a set.

/// Bytes shaped like a gzip file: the magic, NULs, then bytes that are not
/// UTF-8, with no line break (so no part of it can pass for a row).
fn gzip_like() -> Vec<u8> {
    let mut b = vec![0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03];
    let mut x: u32 = 0x2545_f491;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b.push(match (x >> 24) as u8 {
            b'\n' | b'\r' => 0xff,
            v => v | 0x80,
        });
    }
    b
}

#[test]
fn an_unreadable_input_exits_2_and_leaves_the_set_alone() {
    let s = Scratch::new();
    let good = fs::read(s.path("set.indset")).unwrap();
    fs::write(s.path("empty.csv"), "").unwrap();
    fs::write(s.path("object.json"), "{}").unwrap();
    fs::write(s.path("garbage.bin"), gzip_like()).unwrap();
    let set = s.arg("set.indset");
    let portal = s.arg("portal.csv");
    let cases: Vec<Vec<String>> = vec![
        vec![s.arg("empty.csv")],
        vec!["/dev/null".into()],
        vec![s.arg("object.json")],
        vec![s.arg("garbage.bin")],
        // A good input beside a bad one: the bad one still stops the compile.
        vec![portal.clone(), s.arg("empty.csv")],
        vec![s.arg("object.json"), portal.clone()],
    ];
    for inputs in cases {
        let mut args = vec!["-o", set.as_str()];
        args.extend(inputs.iter().map(String::as_str));
        let out = s.compile(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{inputs:?}: {err}");
        let bad = inputs.iter().find(|i| **i != portal).unwrap();
        let last = err.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("indset: error: ") && last.contains(bad.as_str()),
            "{inputs:?}: the last line names the input: {err}"
        );
        assert!(last.contains("no set written"), "{err}");
        assert_eq!(fs::read(s.path("set.indset")).unwrap(), good, "{inputs:?}");
        assert_eq!(s.temporaries(), Vec::<String>::new());
    }
}

#[test]
fn an_empty_set_is_refused_without_allow_empty() {
    let s = Scratch::new();
    let good = fs::read(s.path("set.indset")).unwrap();
    fs::write(s.path("none.json"), "[]").unwrap();
    fs::write(s.path("wild.txt"), "*.wild.example\n").unwrap();
    let set = s.arg("set.indset");
    for input in ["none.json", "wild.txt"] {
        let out = s.compile(&["-o", &set, &s.arg(input)]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{input}: {err}");
        assert!(err.contains("--allow-empty"), "{err}");
        assert_eq!(fs::read(s.path("set.indset")).unwrap(), good, "{input}");
    }
    let out = s.compile(&["--allow-empty", "-o", &set, &s.arg("none.json")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(&["inspect", "--json", &set], b"");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["indicators"], 0);
    // `--allow-empty` allows an empty set, not an unreadable input.
    fs::write(s.path("empty.csv"), "").unwrap();
    let out = s.compile(&["--allow-empty", "-o", &set, &s.arg("empty.csv")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// The number before `word` in `line`: `12 rejected` gives 12.
fn count_before(line: &str, word: &str) -> Option<u64> {
    let at = line.find(word)?;
    line[..at].split_whitespace().last()?.parse().ok()
}

#[test]
fn strict_counts_what_the_summary_counts() {
    let s = Scratch::new();
    // A header without the required columns rejects its rows without a
    // diagnostic each; under --strict that is still an unreadable file.
    fs::write(
        s.path("bad-header.csv"),
        "Type,Value\nDomainName,a.example\nDomainName,b.example\n",
    )
    .unwrap();
    let set = s.arg("out.indset");
    for inputs in [vec!["portal.csv"], vec!["portal.csv", "bad-header.csv"]] {
        let mut args = vec!["--strict".to_string(), "-o".into(), set.clone()];
        args.extend(inputs.iter().map(|i| s.arg(i)));
        let out = s.compile(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let err = text(&out.stderr);
        let summary = err
            .lines()
            .find(|l| l.contains(" rows: "))
            .unwrap_or_else(|| panic!("no summary in {err}"));
        let rejected = count_before(summary, "rejected").unwrap();
        if let Some(strict) = err.lines().find(|l| l.contains("under --strict")) {
            assert_eq!(count_before(strict, "row"), Some(rejected), "{err}");
        }
        let want = if inputs.len() == 1 { 1 } else { 2 };
        assert_eq!(out.status.code(), Some(want), "{inputs:?}: {err}");
        assert!(!s.path("out.indset").exists());
    }
}

// Lookup lines: bounded, and every line answered.

#[test]
fn an_overlong_query_line_is_invalid_and_the_next_is_answered() {
    let s = Scratch::new();
    let mut input = b"https://www.example.com/".to_vec();
    input.resize(3 << 20, b'a');
    input.extend_from_slice(b"\n");
    input.resize(input.len() + (3 << 20), 0);
    input.extend_from_slice(b"\nhttps://www.example.com/\n");
    let out = s.lookup(&["--summary"], &input);
    assert!(out.stdout.len() < 4096, "the answers hold no megabytes");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "{}", text(&out.stdout));
    for (i, l) in lines[..2].iter().enumerate() {
        assert_eq!(l["invalid"], true, "{l}");
        assert_eq!(l["action"], "none", "{l}");
        assert_eq!(l["line"], i as u64 + 1, "{l}");
    }
    assert_eq!(lines[2]["action"], "block");
    assert!(lines[2].get("invalid").is_none());
    assert!(
        text(&out.stderr)
            .contains("3 queries: 1 block, 0 warn, 0 allow, 0 audit, 2 none (2 invalid)"),
        "{}",
        text(&out.stderr)
    );
}

/// Peak memory of a process, from /proc (Linux).
#[cfg(target_os = "linux")]
fn peak_kib(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[cfg(target_os = "linux")]
#[test]
fn an_endless_line_does_not_grow_memory() {
    let s = Scratch::new();
    let set = s.arg("set.indset");
    let mut child = spawn(&["lookup", "--now", NOW, "--set", &set]);
    let mut stdin = child.stdin.take().unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        stdin.write_all(&zeros).unwrap();
    }
    // All but a pipe's buffer of the 64 MiB has been read by now.
    let peak = peak_kib(child.id());
    stdin.write_all(b"\nexample.com\n").unwrap();
    drop(stdin);
    let out = wait_bounded(child);
    assert!(peak < 24 * 1024, "peak {peak} KiB after a 64 MiB line");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["invalid"], true);
    assert_eq!(lines[1]["action"], "block");
}

#[test]
fn lookup_help_states_the_line_cap() {
    let out = run(&["lookup", "--help"], b"");
    assert!(text(&out.stdout).contains("1 MiB"), "{}", text(&out.stdout));
}

#[test]
fn an_undecodable_line_is_invalid_and_the_run_goes_on() {
    let s = Scratch::new();
    let input = b"https://www.example.com/\n\xff\xfe bad \xc3\n\nhttps://partner.example.com/\n";
    let out = s.lookup(&["--summary"], input);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "{}", text(&out.stdout));
    assert_eq!(lines[0]["action"], "block");
    assert_eq!(lines[1]["invalid"], true);
    assert_eq!(lines[1]["action"], "none");
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[2]["action"], "allow");
    assert!(
        text(&out.stderr).contains("(1 invalid)"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_json_line_without_a_string_url_is_invalid() {
    let s = Scratch::new();
    let input = concat!(
        "{\"url\":123}\n",
        "{\"url\":null,\"host\":\"example.com\"}\n",
        "{\"cpt\":\"script\"}\n",
        "{\"url\":[\"https://example.com/\"]}\n",
        "{\"url\":\"http://good.test/\"\n",
        "{\"url\":\"https://example.com/\"}\n",
        "{\"host\":\"partner.example.com\"}\n",
    );
    let out = s.lookup(&["--summary"], input.as_bytes());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 7);
    // The fifth line opens an object it does not close: not a URL either.
    for (l, line) in lines[..5].iter().zip(input.lines()) {
        assert_eq!(l["invalid"], true, "{l}");
        assert_eq!(l["action"], "none", "{l}");
        assert_eq!(l["query"], line, "{l}");
        assert_eq!(l["canonical"], Value::Null, "{l}");
    }
    assert_eq!(lines[5]["action"], "block");
    assert_eq!(lines[6]["action"], "allow");
    assert!(
        text(&out.stderr)
            .contains("7 queries: 1 block, 0 warn, 1 allow, 0 audit, 5 none (5 invalid)"),
        "{}",
        text(&out.stderr)
    );
}

// A closed pipe ends a subcommand quietly.

/// Runs the binary with its stdout closed before it writes (or, with
/// `read_first`, after its first line, as `| head -1` does).
fn with_stdout_closed(args: &[&str], stdin: &[u8], read_first: bool) -> Output {
    let mut child = spawn(args);
    let mut stdout = child.stdout.take().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    if read_first {
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {}
    }
    drop(stdout);
    let out = wait_bounded(child);
    feeder.join().expect("the stdin feeder");
    out
}

#[test]
fn a_closed_stdout_ends_every_subcommand_quietly() {
    let s = Scratch::new();
    // A set big enough that listing it overflows a pipe's buffer.
    let list: String = (0..5000)
        .map(|i| format!("host{i}.example.net\n"))
        .collect();
    fs::write(s.path("big.txt"), list).unwrap();
    let big = s.arg("big.indset");
    let out = s.compile(&["-o", &big, &s.arg("big.txt")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let set = s.arg("set.indset");
    let queries = "https://www.example.com/\n".repeat(20_000);
    let lookup = ["lookup", "--now", NOW, "--set", &set];
    let cases: Vec<(Vec<&str>, &[u8], bool)> = vec![
        (lookup.to_vec(), queries.as_bytes(), true),
        (lookup.to_vec(), queries.as_bytes(), false),
        (
            [&lookup[..], &["example.com"; 20_000][..]].concat(),
            b"",
            true,
        ),
        (vec!["inspect", "--list", &big], b"", true),
        (vec!["inspect", "--json", "--list", &big], b"", false),
        (
            vec!["explain", "--set", &set, "https://example.com/"],
            b"",
            false,
        ),
    ];
    for (args, stdin, read_first) in cases {
        let out = with_stdout_closed(&args, stdin, read_first);
        assert_eq!(
            (out.status.code(), text(&out.stderr)),
            (Some(0), String::new()),
            "{:?}",
            &args[..2]
        );
    }
}

#[test]
fn compile_with_stderr_closed_still_writes_the_set() {
    let s = Scratch::new();
    let set = s.arg("again.indset");
    let portal = s.arg("portal.csv");
    let mut child = spawn(&["compile", "--now", NOW, "-o", &set, &portal]);
    drop(child.stderr.take());
    drop(child.stdin.take());
    let out = wait_bounded(child);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        fs::read(s.path("again.indset")).unwrap(),
        fs::read(s.path("set.indset")).unwrap()
    );
}

// Outputs never destroy inputs, and failed writes leave nothing behind.

#[test]
fn an_output_naming_an_input_is_refused() {
    let s = Scratch::new();
    let portal = s.arg("portal.csv");
    fs::create_dir(s.path("sub")).unwrap();
    fs::hard_link(s.path("portal.csv"), s.path("linked.csv")).unwrap();
    let dotted = format!("{}/sub/../portal.csv", s.dir.path().display());
    let set = s.arg("set.indset");
    let linked = s.arg("linked.csv");
    // Neither exists yet: compared by canonical directory and name.
    let new = s.arg("new.indset");
    let dotted_new = format!("{}/sub/../new.indset", s.dir.path().display());
    let cases: Vec<Vec<&str>> = vec![
        vec!["-o", &portal, &portal],
        vec!["-o", &dotted, &portal],
        vec!["-o", &linked, &portal],
        vec!["--report", &portal, "-o", &set, &portal],
        vec!["--report", &dotted, "-o", &set, &portal],
        vec!["--report", &set, "-o", &set, &portal],
        vec!["--report", &dotted_new, "-o", &new, &portal],
    ];
    let before = fs::read(s.path("set.indset")).unwrap();
    for args in cases {
        let out = s.compile(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("is also"), "{args:?}: {err}");
        assert_eq!(
            fs::read_to_string(s.path("portal.csv")).unwrap(),
            PORTAL_CSV
        );
        assert_eq!(fs::read(s.path("set.indset")).unwrap(), before);
        assert!(!s.path("new.indset").exists());
    }
}

#[test]
fn a_missing_output_directory_is_named() {
    let s = Scratch::new();
    let portal = s.arg("portal.csv");
    let missing = s.path("nope");
    let out_in_missing = missing.join("set.indset").display().to_string();
    let set = s.arg("set.indset");
    for args in [
        vec!["-o", out_in_missing.as_str(), &portal],
        vec![
            "--report",
            &missing.join("r.json").display().to_string(),
            "-o",
            &set,
            &portal,
        ],
    ] {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let out = s.compile(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        let want = format!("the directory {} does not exist", missing.display());
        assert!(err.contains(&want), "{err}");
        assert!(
            !err.contains(".set.indset") && !err.contains(".r.json"),
            "{err}"
        );
        assert!(!missing.exists());
    }
}

#[test]
fn a_failed_write_leaves_no_temporary_file() {
    let s = Scratch::new();
    fs::create_dir(s.path("taken")).unwrap();
    let out = s.compile(&["-o", &s.arg("taken"), &s.arg("portal.csv")]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is a directory"), "{err}");
    assert_eq!(s.temporaries(), Vec::<String>::new(), "{err}");
    assert!(s.path("taken").is_dir());
    assert_eq!(fs::read_dir(s.path("taken")).unwrap().count(), 0);
}

// Messages: each cause once, in the user's terms.

fn occurrences(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn inspect_names_a_directory_or_a_fifo() {
    let s = Scratch::new();
    let out = run(&["inspect", &s.arg("")], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is a directory, not an .indset file"), "{err}");
    assert!(!err.contains("os error"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let fifo = s.path("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|st| st.success()) {
        let out = run(&["inspect", &fifo.display().to_string()], b"");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("is not a regular file"), "{err}");
        assert!(!err.contains("os error"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn os_and_json_errors_are_printed_once() {
    let s = Scratch::new();
    let missing = s.arg("missing.indset");
    let out = run(&["lookup", "--set", &missing, "a.example"], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(occurrences(&err, "(os error 2)"), 1, "{err}");
    assert!(err.contains(&missing), "{err}");

    fs::write(s.path("managed.json"), "{\"WebProtection\": tru").unwrap();
    let cfg = s.arg("managed.json");
    let out = s.lookup(&["--app-config", &cfg, "a.example"], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(occurrences(&err, "line 1 column"), 1, "{err}");

    let out = s.lookup(&["--app-config", &s.arg("none.json"), "a.example"], b"");
    let err = text(&out.stderr);
    assert_eq!(occurrences(&err, "(os error 2)"), 1, "{err}");

    // An unreadable input: its JSON error once, then where it is.
    fs::write(s.path("bad.json"), "{bad").unwrap();
    let out = run(
        &["compile", "-o", &s.arg("bad.indset"), &s.arg("bad.json")],
        b"",
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(occurrences(&err, "line 1 column"), 1, "{err}");
    assert!(err.contains("bad.json:1 above says why"), "{err}");
}

#[test]
fn an_ipv6_domain_is_named_as_written() {
    let s = Scratch::new();
    fs::write(
        s.path("v6.csv"),
        "IndicatorType,IndicatorValue,ExpirationTime,Action\n\
         DomainName,2001:db8::1,,Block\n\
         Url,http://2001:db8::1/x,,Block\n\
         DomainName,fe80::1,,Block\n\
         DomainName,::ffff:245.245.0.1,,Block\n\
         DomainName,ok.example,,Block\n\
         DomainName,fe80::1%eth0,,Block\n",
    )
    .unwrap();
    let out = s.compile(&["-o", &s.arg("v6.indset"), &s.arg("v6.csv")]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let line = |n: u32| {
        err.lines()
            .find(|l| l.contains(&format!("v6.csv:{n}:")))
            .unwrap_or_else(|| panic!("no line {n} in {err}"))
    };
    assert!(line(2).contains("error[ip-indicator]"), "{err}");
    assert!(line(2).contains("the IPv6 address 2001:db8::1"), "{err}");
    assert!(line(3).contains("the IPv6 address 2001:db8::1"), "{err}");
    assert!(line(4).contains("error[ip-indicator]"), "{err}");
    assert!(line(4).contains("the IPv6 address fe80::1"), "{err}");
    assert!(line(5).contains("error[reserved-address]"), "{err}");
    // A zone is part of the address, not a scheme.
    assert!(line(7).contains("the IPv6 address fe80::1%eth0"), "{err}");
    assert!(!err.contains("0.0.7.209"), "{err}");
}

#[test]
fn report_json_counts_agree_with_the_summary() {
    let s = Scratch::new();
    fs::write(
        s.path("bad-header.csv"),
        "Type,Value\nDomainName,a.example\nDomainName,b.example\n",
    )
    .unwrap();
    let report = s.arg("report.json");
    let out = s.compile(&[
        "--report",
        &report,
        "-o",
        &s.arg("out.indset"),
        &s.arg("portal.csv"),
        &s.arg("bad-header.csv"),
    ]);
    let err = text(&out.stderr);
    let r: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let n = |k: &str| r[k].as_u64().unwrap_or_else(|| panic!("no {k} in {r}"));
    assert!(
        err.contains(&format!(
            "{} rows: {} accepted, {} rejected",
            n("rows"),
            n("accepted"),
            n("rejected")
        )),
        "{err}\n{r}"
    );
    assert_eq!(n("rows"), 6);
    assert_eq!(n("rejected"), 4);
    assert_eq!(n("unreadable_files"), 1);
    assert!(err.contains("; 1 unreadable file"), "{err}");
    let errors = r["errors"].as_object().unwrap();
    let sum: u64 = errors.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(sum, n("rejected"), "{r}");
    assert_eq!(r["errors"]["malformed-row"], 2, "{r}");
}
